// An offline schematic map, no tiles: all sites (each camera on a ring around its site), or one site with its
// cameras where the inventory places them. Active emergencies' circles are drawn to scale; a dispatcher's click
// places the centre of a point-and-radius declaration (converted back with the same projection, geo.js).
// Whatever has no location is listed in a strip below the map, never placed anywhere it is not.
import { fit, svgPoint } from "./geo.js";
import { svg } from "./dom.js";

const W = 800;
const H = 420;
const PAD = 40;
const STRIP = 56; // the strip for things without a location
const PLANE = [PAD, PAD, W - 2 * PAD, H - 2 * PAD - STRIP];

function camDot(c, px, py, onSelect) {
  const state = c.live.allowed ? "allowed" : "denied";
  const dot = svg("circle", { cx: px, cy: py, r: 7, class: `cam ${state}`, tabindex: 0, role: "button",
    "data-camera": c.id, "aria-label": `${c.name} (${c.id}): ${c.live.allowed ? "allowed now" : "not allowed"}` },
    svg("title", {}, `${c.name} (${c.id}) · ${c.zone || "unclassified"} · ${c.live.allowed ? "allowed" : c.live.reason}`));
  const pick = (e) => { e.stopPropagation(); if (onSelect) onSelect(c); };
  dot.addEventListener("click", pick);
  dot.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(e); } });
  return dot;
}

function centroids(cameras) {
  const sites = new Map();
  for (const c of cameras) {
    const s = sites.get(c.site) || { id: c.site, lat: 0, lon: 0, n: 0, cams: [] };
    s.cams.push(c);
    if (c.location) { s.lat += c.location.lat; s.lon += c.location.lon; s.n += 1; }
    sites.set(c.site, s);
  }
  for (const s of sites.values()) if (s.n) { s.lat /= s.n; s.lon /= s.n; }
  return [...sites.values()];
}

function circle(proj, lat, lon, metres, cls, title) {
  const cx = proj.x(lon);
  const cy = proj.y(lat);
  return svg("g", { class: cls },
    svg("circle", { cx, cy, r: Math.max(proj.units(metres), 3), class: "area" }),
    svg("path", { d: `M${cx - 6} ${cy}h12M${cx} ${cy - 6}v12`, class: "centre" }), svg("title", {}, title));
}

export function drawMap(cameras, { onSelect, emergencies = [], site = "", pick = null, onPick = null } = {}) {
  const sites = centroids(cameras);
  const mine = sites.find((s) => s.id === site && s.n);
  const located = mine ? mine.cams.filter((c) => c.location).map((c) => c.location) : sites.filter((s) => s.n);
  const proj = located.length ? fit(located, PLANE, mine ? 40 : 800) : null;
  const active = emergencies.filter((e) => e.status === "active");
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: `map${onPick && mine ? " picking" : ""}`, role: "group",
    "data-view": mine ? mine.id : "all",
    "aria-label": mine ? `Map of ${mine.id}: its cameras where the inventory places them` :
      "Schematic map of sites and cameras; each camera is also listed in the camera wall" });
  root.append(svg("rect", { x: 1, y: 1, width: W - 2, height: H - STRIP - 2, rx: 6,
    class: `frame${mine && active.some((e) => e.site === mine.id && !e.center) ? " emergency" : ""}` }));
  if (proj) { // under the cameras: a click on a camera still selects it
    for (const e of active.filter((em) => em.center && em.radius_m)) {
      root.append(circle(proj, e.center.lat, e.center.lon, e.radius_m, "em-circle",
        `Emergency ${e.incident || e.id}: ${e.radius_m} m around ${e.center.lat}, ${e.center.lon}`));
    }
    if (pick) root.append(circle(proj, pick.lat, pick.lon, pick.radius_m, "pick", `New declaration: ${pick.radius_m} m here`));
  }
  const unplaced = [];
  if (mine) {
    const placed = mine.cams.filter((c) => c.location).map((c) => [c, proj.x(c.location.lon), proj.y(c.location.lat)]);
    for (const [c, px, py] of placed) {
      // The name on the side away from the nearest camera, so two close cameras' names do not overlap.
      const near = placed.filter(([o]) => o !== c).sort((a, b) => Math.hypot(a[1] - px, a[2] - py) - Math.hypot(b[1] - px, b[2] - py))[0];
      const left = near && near[1] > px;
      root.append(camDot(c, px, py, onSelect), svg("text", { x: left ? px - 11 : px + 11, y: py + 6,
        "text-anchor": left ? "end" : "start", class: "cam-label" }, c.name));
    }
    for (const c of mine.cams.filter((cam) => !cam.location)) unplaced.push(["cam", c]);
    root.append(svg("text", { x: 12, y: 22, class: "site-label" }, mine.id), scaleBar(proj));
  } else {
    if (site) root.append(svg("text", { x: 12, y: 22, class: "site-label" }, `No camera of ${site} has a location: every site is shown.`));
    for (const s of sites) {
      if (!s.n) { unplaced.push(["site", s]); continue; }
      const [cx, cy] = [proj.x(s.lon), proj.y(s.lat)];
      const g = svg("g", { class: `site${active.some((e) => e.site === s.id) ? " emergency" : ""}` },
        svg("circle", { cx, cy, r: 34, class: "site-area" }),
        svg("text", { x: cx, y: cy - 40, "text-anchor": "middle", class: "site-label" }, s.id));
      s.cams.forEach((c, k) => {
        const angle = (2 * Math.PI * k) / s.cams.length;
        g.append(camDot(c, cx + 22 * Math.cos(angle), cy + 22 * Math.sin(angle), onSelect));
      });
      root.append(g);
    }
  }
  drawStrip(root, unplaced, mine ? null : active, onSelect);
  if (onPick && mine) { // a point is picked on one site's map, where a metre is a few pixels
    root.addEventListener("click", (e) => {
      const p = svgPoint(root, e);
      const [x0, y0, w, hh] = PLANE;
      if (p.x < x0 - PAD || p.x > x0 + w + PAD || p.y < y0 - PAD || p.y > y0 + hh + PAD / 2) return;
      const [lat, lon] = [proj.lat(p.y), proj.lon(p.x)];
      const near = mine || sites.filter((s) => s.n).reduce((a, s) =>
        (Math.hypot(s.lat - lat, s.lon - lon) < Math.hypot(a.lat - lat, a.lon - lon) ? s : a));
      onPick({ lat, lon, site: near.id });
    });
  }
  return root;
}

function scaleBar(proj) {
  const len = proj.units(10);
  const [x, y] = [W - PAD - len, H - STRIP - 14];
  return svg("g", { class: "scale", "aria-hidden": "true" }, svg("path", { d: `M${x} ${y - 5}v5h${len}v-5` }),
    svg("text", { x: x + len / 2, y: y - 8, "text-anchor": "middle" }, "10 m"));
}

function drawStrip(root, unplaced, active, onSelect) {
  if (!unplaced.length) return;
  const y = H - STRIP / 2;
  root.append(svg("text", { x: 12, y: y + 4, class: "site-label" }, "No location:"));
  unplaced.forEach(([kind, item], i) => {
    const x = 120 + i * (kind === "cam" ? 30 : 130);
    if (kind === "cam") { root.append(camDot(item, x, y, onSelect)); return; }
    const g = svg("g", { class: `site${active && active.some((e) => e.site === item.id) ? " emergency" : ""}` },
      svg("text", { x: x + 4, y: y - 12, class: "site-label" }, item.id));
    item.cams.forEach((c, k) => g.append(camDot(c, x + 10 + 18 * k, y + 6, onSelect)));
    root.append(g);
  });
}

// An offline schematic map: sites and cameras drawn from the inventory's locations, no tiles. Cameras
// without a location are placed on a ring around their site.
import { svg } from "./dom.js";

const W = 800;
const H = 420;
const PAD = 40;

function siteCentres(cameras) {
  const sites = new Map();
  for (const c of cameras) {
    const s = sites.get(c.site) || { lat: 0, lon: 0, n: 0, cams: [] };
    s.cams.push(c);
    if (c.location) {
      s.lat += c.location.lat;
      s.lon += c.location.lon;
      s.n += 1;
    }
    sites.set(c.site, s);
  }
  const located = [...sites.values()].filter((s) => s.n);
  const meanLat = located.reduce((a, s) => a + s.lat / s.n, 0) / (located.length || 1);
  let i = 0;
  for (const [, s] of sites) {
    if (s.n) {
      s.lat /= s.n;
      s.lon /= s.n;
    } else { // no camera located: a row along the bottom
      s.lat = meanLat - 0.02;
      s.lon = -73.52 + 0.012 * i++;
    }
  }
  return sites;
}

export function drawMap(cameras, { onSelect, emergencies = [] } = {}) {
  const sites = siteCentres(cameras);
  const pts = [...sites.values()];
  const lats = pts.map((s) => s.lat);
  const lons = pts.map((s) => s.lon);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const x = (lon) => PAD + ((lon - minLon) / (maxLon - minLon || 1)) * (W - 2 * PAD);
  const y = (lat) => H - PAD - ((lat - minLat) / (maxLat - minLat || 1)) * (H - 2 * PAD);
  const active = new Set(emergencies.filter((e) => e.status === "active").map((e) => e.site));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "map", role: "group",
    "aria-label": "Schematic map of sites and cameras; each camera is also listed in the camera wall" });
  for (const [id, s] of sites) {
    const cx = x(s.lon);
    const cy = y(s.lat);
    const g = svg("g", { class: `site${active.has(id) ? " emergency" : ""}` },
      svg("circle", { cx, cy, r: 34, class: "site-area" }),
      svg("text", { x: cx, y: cy - 40, "text-anchor": "middle", class: "site-label" }, id));
    s.cams.forEach((c, k) => {
      const angle = (2 * Math.PI * k) / s.cams.length;
      const px = cx + 22 * Math.cos(angle);
      const py = cy + 22 * Math.sin(angle);
      const state = c.live.allowed ? "allowed" : "denied";
      const dot = svg("circle", { cx: px, cy: py, r: 7, class: `cam ${state}`, tabindex: 0, role: "button",
        "data-camera": c.id, "aria-label": `${c.name} (${c.id}): ${c.live.allowed ? "allowed now" : "not allowed"}` },
        svg("title", {}, `${c.name} (${c.id}) · ${c.zone || "unclassified"} · ${c.live.allowed ? "allowed" : c.live.reason}`));
      const pick = () => onSelect && onSelect(c);
      dot.addEventListener("click", pick);
      dot.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
      g.append(dot);
    });
    root.append(g);
  }
  return root;
}

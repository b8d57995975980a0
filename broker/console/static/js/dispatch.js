// Dispatch: the schematic map, the camera wall (live, and recorded pre-event footage beside it), what is not
// allowed and why, emergencies and the declare form (its point and radius picked on the map).
import { api, ApiError } from "./api.js";
import { declareForm } from "./declare.js";
import { clock, h, rerender, showBanner } from "./dom.js";
import { emergencyList, tickCountdowns } from "./emergencies.js";
import { onEmergencyEvents } from "./events.js";
import { drawMap } from "./map.js";
import { Player, reasonText } from "./player.js";
import { PreEvent } from "./preevent.js";
import { arrange, wallCameras, WALL_MAX } from "./wallorder.js";

export async function dispatchPage(main, principal) {
  const players = new Map(); // camera id -> Player
  const ended = new Map(); // camera id -> why its player was stopped
  let cameras = [];
  let allCameras = [];
  let emergencies = [];
  let form = null; // the declare form, for dispatchers and supervisors
  let point = null; // the declare form's centre and radius, drawn on the map
  let site = sessionStorage.getItem("camgate.site") || "";

  const siteSelect = h("select", { id: "site-filter" });
  const mapBox = h("div", { class: "map-box" });
  const wall = h("div", { class: "wall" }); // in the section named "Camera wall"; each player a <figure>
  const empty = h("p", {}, "No camera is allowed for you now at this site.");
  const more = h("p", { class: "hint wall-more", hidden: true }); // allowed cameras beyond the wall's six
  const preEvent = new PreEvent(wall);
  const denied = h("ul", { class: "denied", "aria-label": "Cameras not allowed now" });
  const emBox = h("div");
  const formBox = h("div");
  const mayDeclare = principal.roles.some((r) => ["dispatcher", "supervisor"].includes(r));

  main.replaceChildren(
    h("h2", { class: "page-title" }, "Dispatch"),
    h("div", { class: "toolbar" }, h("label", { for: "site-filter" }, "Site"), siteSelect,
      h("button", { type: "button", id: "refresh", onclick: () => refresh() }, "Refresh")),
    h("div", { class: "dispatch" },
      h("section", { "aria-labelledby": "map-title" }, h("h2", { id: "map-title" }, "Map"), mapBox,
        h("p", { class: "legend" }, h("span", { class: "swatch allowed" }), " allowed now ",
          h("span", { class: "swatch denied" }), " not allowed ", h("span", { class: "swatch area" }), " emergency area"),
        mayDeclare ? h("p", { class: "hint" }, "Choose a site, then click its map to place the centre of a ",
          "point-and-radius emergency (or type the latitude and longitude in the form below).") : null),
      h("section", { "aria-labelledby": "wall-title" }, h("h2", { id: "wall-title" }, "Camera wall"), wall, more,
        h("h3", {}, "Not allowed now"), denied)),
    emBox, formBox);
  siteSelect.addEventListener("change", () => {
    site = siteSelect.value;
    sessionStorage.setItem("camgate.site", site);
    const formSite = document.getElementById("em-site"); // the declare form follows the page's site
    if (formSite && site && [...formSite.options].some((o) => o.value === site)) formSite.value = site;
    for (const p of players.values()) p.stop();
    players.clear();
    preEvent.stopAll();
    wall.replaceChildren();
    refresh();
  });

  async function whyEnded(cameraId, before) {
    if (before && before.emergency) {
      try {
        const em = await api(`/api/v1/emergencies/${encodeURIComponent(before.emergency)}`);
        if (em.status !== "active") {
          const at = clock(em.ended_at || em.expires_at);
          return `Access ended: emergency ${em.status === "expired" ? "expired" : "ended"} at ${at}.`;
        }
      } catch { /* fall through to the decision */ }
    }
    const now = cameras.find((c) => c.id === cameraId);
    return now ? `Access ended: ${reasonText(now.live)}.` : "Access ended: the camera was removed.";
  }

  async function onRefused(player) {
    const before = player.camera.live;
    await refresh();
    player.status.textContent = await whyEnded(player.camera.id, before);
    ended.set(player.camera.id, player.status.textContent);
  }

  function renderDenied() {
    const items = cameras.filter((c) => !c.live.allowed).map((c) => h("li", { "data-camera": c.id },
      h("strong", {}, c.name), ` (${c.id}, ${c.zone || "unclassified"}): `, h("span", { class: "reason" }, reasonText(c.live)),
      ended.has(c.id) ? h("span", { class: "ended" }, ` ${ended.get(c.id)}`) : null));
    denied.replaceChildren(...(items.length ? items : [h("li", {}, "Every camera shown is allowed now.")]));
  }

  async function syncWall() {
    for (const cam of cameras) {
      const p = players.get(cam.id);
      if (p && !p.stopped && !cam.live.allowed) {
        p.stop("Stopping…");
        p.status.textContent = await whyEnded(cam.id, p.camera.live);
        ended.set(cam.id, p.status.textContent);
      }
    }
    // The emergency's cameras first, then the rest; the six count after sorting (wallorder.js).
    const { shown, more: hidden } = wallCameras(cameras, emergencies);
    const keep = new Set(shown.map((c) => c.id));
    for (const [id, p] of players) { // still allowed but pushed off the wall by an emergency's cameras
      if (!keep.has(id) && cameras.some((c) => c.id === id && c.live.allowed)) {
        p.stop();
        p.el.remove();
        players.delete(id);
      }
    }
    for (const cam of shown) {
      const p = players.get(cam.id);
      if (p && !p.stopped) continue;
      const fresh = new Player(cam, onRefused);
      const em = emergencies.find((e) => e.id === cam.live.emergency);
      if (em) fresh.el.append(preEvent.button(cam, em)); // an interior camera opened by an emergency
      if (p && p.el.isConnected) p.el.replaceWith(fresh.el);
      else wall.append(fresh.el);
      empty.remove();
      fresh.start(); // in the document first: the media element must be attached before hls.js opens its source
      players.set(cam.id, fresh);
      ended.delete(cam.id);
    }
    // Each camera's live tile (then its recorded ones) in wall order; tiles that ended keep their place after.
    const order = [...shown, ...cameras.filter((c) => !keep.has(c.id))];
    arrange(wall, order.flatMap((c) => [players.get(c.id)?.el,
      ...wall.querySelectorAll(`figure.recorded[data-camera="${CSS.escape(c.id)}"]`)]).filter(Boolean));
    more.hidden = hidden === 0;
    more.textContent = `${hidden} more allowed camera${hidden === 1 ? " is" : "s are"} not on the wall (it shows ${WALL_MAX} at most`
      + `${site ? "" : "; choose a site to see the others"}).`;
    if (!wall.querySelector("figure")) wall.replaceChildren(empty);
    const active = new Set(emergencies.filter((e) => e.status === "active").map((e) => e.id));
    await preEvent.sync(active, (rec) => whyEnded(rec.camera.id, { emergency: rec.emergency }));
  }

  function drawMapNow() {
    rerender(mapBox, drawMap(allCameras, { onSelect: select, emergencies, site, pick: point,
      onPick: form ? (p) => form.pick(p) : null }));
  }

  function select(cam) {
    const el = players.get(cam.id)?.el || denied.querySelector(`[data-camera="${CSS.escape(cam.id)}"]`);
    if (el) { el.scrollIntoView({ block: "nearest" }); el.classList.add("flash"); setTimeout(() => el.classList.remove("flash"), 1200); }
  }

  async function refresh() {
    try {
      const [all, ems] = await Promise.all([api("/api/v1/cameras"), api("/api/v1/emergencies?active=true")]);
      showBanner("");
      const sites = [...new Set(all.cameras.map((c) => c.site))].sort();
      if (siteSelect.options.length !== sites.length + 1) {
        siteSelect.replaceChildren(h("option", { value: "" }, "All sites"), ...sites.map((s) => h("option", { value: s }, s)));
      }
      siteSelect.value = site;
      cameras = all.cameras.filter((c) => !site || c.site === site);
      emergencies = ems.emergencies;
      allCameras = all.cameras;
      if (mayDeclare && !form) {
        form = declareForm(all.cameras, refresh, { onPoint: (p) => { point = p; drawMapNow(); } });
        formBox.append(form.el);
      }
      drawMapNow();
      renderDenied();
      rerender(emBox, emergencyList(emergencies, refresh, { cameras: all.cameras, preEvent })); // keeps focus and typing
      await syncWall();
      renderDenied();
    } catch (err) {
      showBanner(err instanceof ApiError ? `Could not read the cameras: ${err.message}. ${err.advice()}` : String(err));
    }
  }

  await refresh();
  onEmergencyEvents(() => refresh());
  setInterval(tickCountdowns, 1000);
}

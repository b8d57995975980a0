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

const WALL_MAX = 6;

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
      h("section", { "aria-labelledby": "wall-title" }, h("h2", { id: "wall-title" }, "Camera wall"), wall,
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
    const running = [...players.values()].filter((p) => !p.stopped).length;
    let room = WALL_MAX - running;
    for (const cam of cameras.filter((c) => c.live.allowed)) {
      const p = players.get(cam.id);
      if ((p && !p.stopped) || room <= 0) continue;
      const fresh = new Player(cam, onRefused);
      const em = emergencies.find((e) => e.id === cam.live.emergency);
      if (em) fresh.el.append(preEvent.button(cam, em)); // an interior camera opened by an emergency
      if (p) p.el.replaceWith(fresh.el);
      else wall.append(fresh.el);
      empty.remove();
      fresh.start(); // in the document first: the media element must be attached before hls.js opens its source
      players.set(cam.id, fresh);
      ended.delete(cam.id);
      room -= 1;
    }
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

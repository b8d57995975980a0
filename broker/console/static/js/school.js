// School IT: cameras by site, building and zone, with what partner agencies may see; unclassified first.
import { api, ApiError } from "./api.js";
import { h, showBanner } from "./dom.js";
import { reasonText } from "./player.js";

const ZONES = { exterior: "Exterior: police see it always", interior: "Interior: police only during an emergency",
  restricted: "Restricted: never shared" };

export async function schoolPage(main) {
  main.replaceChildren(h("h2", { class: "page-title" }, "Cameras and sharing"), h("p", {}, "Loading…"));
  let data;
  try {
    data = await api("/api/v1/cameras");
  } catch (err) {
    showBanner(err instanceof ApiError ? `Could not read the cameras: ${err.message}. ${err.advice()}` : String(err));
    return;
  }
  const cams = [...data.cameras].sort((a, b) => (a.zone ? 1 : 0) - (b.zone ? 1 : 0)
    || a.site.localeCompare(b.site) || (a.building || "").localeCompare(b.building || "") || a.id.localeCompare(b.id));
  const rows = cams.map((c) => h("tr", { class: c.zone ? "" : "unclassified", "data-camera": c.id },
    h("td", {}, c.site), h("td", {}, c.building || "—"), h("td", {}, c.zone || h("strong", {}, "Unclassified: set a zone")),
    h("th", { scope: "row" }, `${c.name} (${c.id})`),
    h("td", {}, c.zone ? ZONES[c.zone] || c.zone : "Shared with no one until classified"),
    h("td", {}, c.live.allowed ? "You may view now" : reasonText(c.live))));
  main.replaceChildren(h("h2", { class: "page-title" }, "Cameras and sharing"),
    h("p", {}, "Unclassified cameras come first: give each a zone in the inventory so the MOU can govern it."),
    h("div", { class: "table-wrap", role: "region", "aria-label": "Cameras", tabindex: "0" }, h("table", {}, h("caption", {}, `${cams.length} cameras`),
      h("thead", {}, h("tr", {}, ["Site", "Building", "Zone", "Camera", "Partner agencies", "You"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))));
}

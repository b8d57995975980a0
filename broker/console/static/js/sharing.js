// School IT: the table of my agency's cameras by site, building and zone, each with what every partner agency may
// see of it now and under which clause (GET /api/v1/sharing: the decision point's own answers). Unclassified first.
import { clock, h } from "./dom.js";

const ACTIONS = { live: "live", snapshot: "snapshots", playback: "playback", export: "export" };
// What a denial means for the camera's owner (reason codes of policies/CONTRACT.md section 4).
const NOT_NOW = {
  no_emergency: "Only during a declared emergency",
  not_on_roster: "Only the people named on the MOU's roster",
  outside_schedule: "Outside the MOU's schedule now",
  outside_playback_window: "Not this footage",
  never_shared_zone: "Never shared, not even in an emergency",
  unclassified_camera: "Shared with no one until you give it a zone",
  mou_not_in_effect: "Not shared: the MOU is not in force now",
  no_mou: "No MOU shares it",
};
// Reasons that hold for the camera whatever the action: said once, without listing actions.
const WHOLE_CAMERA = new Set(["never_shared_zone", "unclassified_camera", "mou_not_in_effect", "no_mou"]);

const plural = (role) => role.replaceAll("_", " ").replace(/y$/, "ie") + "s";

function source(p) {
  if (p.clause) return `clause ${p.clause}`;
  return p.grant ? `grant ${p.grant}` : `MOU ${p.mou}`;
}

// One line per outcome: the actions that share it, grouped; "no grant names it" is left out unless it is all.
function lines(answers, emergencyName) {
  const groups = new Map();
  for (const p of answers) {
    const key = JSON.stringify([p.shared, p.reason, p.mou, p.grant, p.clause, p.emergency, p.roles]);
    if (!groups.has(key)) groups.set(key, { ...p, actions: [] });
    groups.get(key).actions.push(p.action);
  }
  const said = [];
  const whole = new Set(); // a whole-camera reason is said once, whatever the actions and roles
  for (const g of groups.values()) {
    if (g.reason === "no_matching_grant" || whole.has(g.reason)) continue;
    if (WHOLE_CAMERA.has(g.reason)) whole.add(g.reason);
    said.push(g);
  }
  if (!said.length) return [h("li", { class: "share-no" }, "Nothing: no grant of its MOU covers this camera.")];
  return said.map((g) => {
    const acts = g.actions.map((a) => ACTIONS[a] || a).join(", ");
    const roles = g.roles.map(plural).join(", ");
    if (g.shared) {
      const during = g.emergency ? ` during emergency ${emergencyName(g.emergency)}` : "";
      return h("li", { class: "share-yes" }, h("span", { class: "mark", "aria-hidden": "true" }, "✓ "),
        h("strong", {}, "Shared now: "), `${acts} under ${source(g)}${during}${roles ? ` (${roles})` : ""}`);
    }
    const why = NOT_NOW[g.reason] || g.reason.replaceAll("_", " ");
    const whole = WHOLE_CAMERA.has(g.reason);
    const notes = [g.mou ? source(g) : null, whole ? null : roles || null].filter(Boolean).join("; ");
    return h("li", { class: "share-no" }, h("span", { class: "mark", "aria-hidden": "true" }, "✗ "),
      h("strong", {}, why), `${whole ? "" : `: ${acts}`}${notes ? ` (${notes})` : ""}`);
  });
}

function partnersCell(cam, emergencyName) {
  if (!cam.partners.length) return h("td", { class: "partners" }, "No partner agency: no MOU covers this site.");
  const byAgency = new Map();
  for (const p of cam.partners) {
    if (!byAgency.has(p.agency)) byAgency.set(p.agency, []);
    byAgency.get(p.agency).push(p);
  }
  return h("td", { class: "partners" }, [...byAgency.values()].map((answers) => h("div", { class: "partner" },
    h("span", { class: "agency" }, answers[0].agency_name), h("ul", {}, lines(answers, emergencyName)))));
}

function cameraCell(cam, withSite) {
  const flags = [];
  if (cam.attention.includes("no_zone")) flags.push("Unclassified: no zone. School IT classifies it under “Cameras to classify or check”.");
  if (cam.attention.includes("zone_not_in_mou")) flags.push(`Unclassified: no MOU names the zone "${cam.zone}". School IT classifies it under “Cameras to classify or check”.`);
  if (cam.missing_since) flags.push(`Missing: its camera system has not listed it since ${cam.missing_since.slice(0, 10)} ${clock(cam.missing_since)}. Check the camera, or remove it from the inventory.`);
  return h("th", { scope: "row" }, h("span", { class: "cam-name" }, cam.name), h("span", { class: "cam-id" }, ` ${cam.id}`),
    withSite ? h("span", { class: "cam-site" }, cam.site_name) : null, flags.map((f) => h("span", { class: "flag" }, f)));
}

// The API's order (unclassified first, then by site, building, zone) in groups: the unclassified, then each site.
function groups(cameras) {
  const out = [];
  for (const cam of cameras) {
    const key = cam.unclassified ? "" : cam.site;
    if (!out.length || out[out.length - 1].key !== key) {
      out.push({ key, title: cam.unclassified ? "Unclassified: shared with no one until classified" : cam.site_name, cams: [] });
    }
    out[out.length - 1].cams.push(cam);
  }
  return out;
}

// emergencyName(id): how to name an emergency (its incident), else its id.
export function sharingTable(page, emergencyName = (id) => id) {
  const bodies = groups(page.cameras).map((g) => h("tbody", { "data-group": g.key || "unclassified" },
    h("tr", { class: "group" }, h("th", { scope: "rowgroup", colspan: "4" }, `${g.title} (${g.cams.length})`)),
    g.cams.map((cam) => h("tr", {
      class: cam.unclassified ? "unclassified" : null, "data-camera": cam.id, "data-missing": cam.missing_since ? "true" : null },
    cameraCell(cam, cam.unclassified), h("td", {}, cam.building || "—"),
    h("td", {}, cam.zone ? cam.zone.replaceAll("_", " ") : h("strong", {}, "none")), partnersCell(cam, emergencyName)))));
  const unclassified = page.cameras.filter((c) => c.unclassified).length;
  const caption = `${page.total} cameras${unclassified ? `, ${unclassified} unclassified (listed first)` : ""}, by site; decided at ${clock(page.at)}`;
  return h("div", { class: "table-wrap", role: "region", "aria-labelledby": "sharing-title", tabindex: "0" },
    h("table", { id: "sharing-table" }, h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ["Camera", "Building", "Zone", "What partner agencies may see now"]
        .map((t) => h("th", { scope: "col" }, t)))),
      bodies.length ? bodies : h("tbody", {}, h("tr", {}, h("td", { colspan: "4" }, "No camera at this site.")))));
}

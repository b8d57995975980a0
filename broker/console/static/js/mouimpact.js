// The broker's redline and impact of two versions (GET /api/v1/mous/{mou}/diff?from=&to=): what changed, in words
// a school board can read, and who gains or loses which action on which cameras, always and in an emergency (the
// decision point's answers). The cameras open by site: police staff on the dispatch wall, school staff on the
// School IT page. Until the broker has the route, the page says so (404) and keeps the text redline.
import { api, ApiError } from "./api.js";
import { h } from "./dom.js";

const WALL = ["officer", "dispatcher", "supervisor"];
const SCHOOL = ["operator", "principal", "superintendent"];
const SIGN = { added: "+", removed: "−", changed: "~" };
// The new version's denial reasons (policies/CONTRACT.md section 4), as the camera's owner would say them.
const REASON = {
  never_shared_zone: "in a zone never shared", no_matching_grant: "no grant covers it", no_emergency: "only in an emergency",
  unclassified_camera: "unclassified", outside_schedule: "outside the schedule", mou_not_in_effect: "the MOU is not in effect",
};
const reasonText = (code) => REASON[code] || code.replaceAll("_", " ");

// A link that opens the site's cameras on the page the person has (the pages remember the site they show).
function siteLink(principal, site, name) {
  const to = principal.roles.some((r) => WALL.includes(r)) ? ["#dispatch", "camgate.site"]
    : principal.roles.some((r) => SCHOOL.includes(r)) ? ["#school", "camgate.school-site"] : null;
  if (!to) return h("strong", {}, name);
  return h("a", { href: to[0], onclick: () => sessionStorage.setItem(to[1], site) }, name);
}

function camerasBySite(principal, ids, cameras, reasons) {
  const sites = new Map();
  for (const id of ids) {
    const c = cameras[id] || { name: id, site: "", site_name: "unknown site" };
    if (!sites.has(c.site)) sites.set(c.site, { name: c.site_name || c.site, cams: [] });
    const why = reasons?.[id] ? `: now ${reasonText(reasons[id])}` : "";
    sites.get(c.site).cams.push(`${c.name} (${id}${c.building ? `, building ${c.building}` : ""}${c.zone ? `, zone ${c.zone}` : ""})${why}`);
  }
  return h("ul", { class: "by-site" }, [...sites].map(([site, s]) => h("li", { "data-site": site },
    siteLink(principal, site, s.name), `: ${s.cams.join("; ")}`)));
}

// Actions that reach the same cameras are said once: "loses live, playback, snapshot on 1 camera".
function actionsList(principal, label, sign, actions, cameras, reasons) {
  const groups = new Map(); // camera ids -> actions
  for (const [action, ids] of Object.entries(actions || {})) {
    if (!ids.length) continue;
    const key = [...ids].sort().join(" ");
    groups.set(key, [...(groups.get(key) || []), action]);
  }
  if (!groups.size) return null;
  return h("div", { class: `delta ${label}` }, [...groups].map(([key, acts]) => {
    const ids = key.split(" ");
    return h("div", { "data-actions": acts.join(" ") },
      h("p", {}, h("span", { class: "sign", "aria-hidden": "true" }, sign), ` ${label} ${acts.join(", ")} on ${ids.length} camera${ids.length === 1 ? "" : "s"}:`),
      camerasBySite(principal, ids, cameras, reasons));
  }));
}

function impactItem(principal, it, cameras) {
  return h("li", { class: "impact", "data-agency": it.agency, "data-role": it.role, "data-mode": it.mode },
    h("p", {}, h("strong", {}, it.text)),
    actionsList(principal, "gains", "+", it.gained, cameras, it.reasons),
    actionsList(principal, "loses", "−", it.lost, cameras, it.reasons));
}

export async function impactSection(principal, mou, from, to) {
  const box = h("section", { class: "panel", "aria-labelledby": "impact-title" }, h("h2", { id: "impact-title" }, "What changes, and who could see what"));
  let d;
  try {
    d = await api(`/api/v1/mous/${encodeURIComponent(mou)}/diff?${new URLSearchParams({ from, to })}`);
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404 && err.body.error !== "unknown_mou";
    box.append(h("p", { class: "hint", "data-impact": "unavailable" }, missing
      ? "This broker cannot compute the impact of a change yet (no GET /api/v1/mous/{mou}/diff): read the text redline below, and the plain words of each version."
      : `The impact could not be computed: ${err.message}. ${err instanceof ApiError ? err.advice() : ""}`));
    return box;
  }
  box.append(
    h("h3", {}, `Changes (${d.changes.length})`),
    d.changes.length ? h("ul", { class: "changes" }, d.changes.map((c) => h("li", { "data-change": c.change, "data-area": c.area },
      h("span", { class: `sign ${c.change}`, "aria-hidden": "true" }, SIGN[c.change] || "~"), " ", h("span", { class: "visually-hidden" }, `${c.change}: `),
      c.text, " ", h("code", { class: "muted" }, c.path)))) : h("p", {}, "The two texts mean the same."),
    h("h3", {}, `Impact on the current inventory (${d.impact.length})`),
    d.impact.length ? h("ul", { class: "impacts" }, d.impact.map((it) => impactItem(principal, it, d.cameras || {})))
      : h("p", {}, "No agency or role gains or loses any camera."));
  return box;
}

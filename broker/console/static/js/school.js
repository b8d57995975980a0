// School IT (operators, and the roles the district's MOUs name: principals): emergencies at my sites with who is
// watching now, cameras to classify or check, every camera with what each partner agency may see now and under
// which clause (unclassified first), and the MOUs in force in plain words. No video on this page.
import { api, ApiError } from "./api.js";
import { classifyForm } from "./classify.js";
import { h, rerender, showBanner } from "./dom.js";
import { onEmergencyEvents } from "./events.js";
import { mouSection } from "./mous.js";
import { sharingTable } from "./sharing.js";
import { watching, watchingSection } from "./watching.js";

const SITE_KEY = "camgate.school-site";
const REFRESH_SECONDS = 30; // schedules open and close with the clock, not with an event

const why = (what, err) => (err instanceof ApiError ? `Could not read ${what}: ${err.message}. ${err.advice()}` : `Could not read ${what}: ${err}`);

// GET /api/v1/inventory/unclassified is for operators: anyone else is told who does it. Its document warnings (an
// MOU out of force, a camera zone no MOU defines) are those of the cameras listed and the MOUs covering the site.
async function todo(sites, site) {
  try {
    const query = new URLSearchParams(site ? { site } : {});
    const { cameras, warnings, sites: choices } = await api(`/api/v1/inventory/unclassified?${query}`);
    const listed = cameras.filter((c) => sites.has(c.site));
    const ids = new Set(listed.map((c) => c.id));
    return { cameras: listed, choices: choices || [], warnings: warnings.filter((w) => w.code !== "unknown_zone" || ids.has(w.subject)) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return null;
    throw err;
  }
}

function warningsSection(warnings) {
  if (!warnings.length) return null;
  return h("section", { class: "panel doc-warnings", "aria-labelledby": "doc-warnings-title" },
    h("h2", { id: "doc-warnings-title" }, `Document warnings (${warnings.length})`),
    h("p", {}, "These documents loaded, but they share less than they say. Correct them, then run camgate reload."),
    h("ul", {}, warnings.map((w) => h("li", { "data-warning": w.code, "data-subject": w.subject },
      h("strong", {}, `${w.document}, line ${w.line} (${w.path})`), `: ${w.message}`))));
}

function todoSection(found, siteName, saved) {
  if (found === null) return h("p", { class: "hint" }, "Classifying cameras is for school IT operators: ask them about an unclassified or missing camera.");
  const items = found.cameras;
  if (!items.length) return warningsSection(found.warnings);
  const what = (c) => [
    c.reasons.includes("no_zone") ? "no zone yet: classify it below" : null,
    c.reasons.includes("zone_not_in_mou") ? `no MOU names its zone "${c.zone}": classify it below` : null,
    c.reasons.includes("missing") ? `its system has not listed it since ${c.missing_since}: check the camera, or remove it from the inventory` : null,
  ].filter(Boolean).join("; ");
  return h("div", {}, warningsSection(found.warnings), h("section", { class: "panel todo", "aria-labelledby": "todo-title" },
    h("h2", { id: "todo-title" }, `Cameras to classify or check (${items.length})`),
    h("ul", {}, items.map((c) => h("li", { "data-todo": c.id }, h("strong", {}, `${c.name} (${c.id})`),
      `, ${siteName(c.site)}: ${what(c)}. System ${c.system || "none"}, reference ${c.ref || "none"}`,
      c.discovered_at ? `; found by inventory sync at ${c.discovered_at}.` : ".",
      c.reasons.some((r) => r === "no_zone" || r === "zone_not_in_mou") ? classifyForm(c, found.choices, saved) : null)))));
}

export async function schoolPage(main) {
  let site = sessionStorage.getItem(SITE_KEY) || "";
  let sites = new Map(); // id -> name, my agency's sites
  let names = new Map(); // camera id -> name
  let emergencyNames = new Map(); // emergency id -> incident
  const siteSelect = h("select", { id: "school-site" });
  const watchBox = h("div");
  const todoBox = h("div");
  const tableBox = h("div", {}, h("p", {}, "Loading…"));
  const mouBox = h("div");
  main.replaceChildren(h("h2", { class: "page-title" }, "Cameras and sharing"),
    h("p", {}, "What each partner agency may see of your cameras right now, and under which MOU clause. ",
      "Unclassified cameras come first: no one sees them until you classify each (give it a zone) below."),
    h("div", { class: "toolbar" }, h("label", { for: "school-site" }, "Site"), siteSelect,
      h("button", { type: "button", id: "school-refresh", onclick: () => refresh() }, "Refresh")),
    watchBox, todoBox,
    h("section", { "aria-labelledby": "sharing-title" }, h("h2", { id: "sharing-title" }, "Cameras and what partners may see now"), tableBox),
    mouBox);
  siteSelect.addEventListener("change", () => {
    site = siteSelect.value;
    sessionStorage.setItem(SITE_KEY, site);
    refresh();
  });

  const cameraName = (id) => (names.has(id) ? `${names.get(id)} (${id})` : id);
  const siteName = (id) => sites.get(id) || id;
  const here = () => new Set(site ? [site] : sites.keys());

  async function refreshWatching() {
    try {
      const list = await watching(here());
      emergencyNames = new Map(list.map(({ emergency: e }) => [e.id, e.incident || e.id]));
      rerender(watchBox, watchingSection(list, { cameraName, siteName }));
    } catch (err) {
      showBanner(why("the emergencies at your sites", err));
    }
  }

  async function refresh() {
    try {
      const query = new URLSearchParams(site ? { site } : {});
      const [page, mous] = await Promise.all([api(`/api/v1/sharing?${query}`), api("/api/v1/mous?in_force=true")]);
      showBanner("");
      sites = new Map(page.sites.map((s) => [s.id, s.name]));
      names = new Map(page.cameras.map((c) => [c.id, c.name]));
      if (site && !sites.has(site)) { site = ""; sessionStorage.removeItem(SITE_KEY); }
      if (siteSelect.options.length !== page.sites.length + 1) {
        siteSelect.replaceChildren(h("option", { value: "" }, `All my sites (${page.sites.length})`),
          ...page.sites.map((s) => h("option", { value: s.id }, s.name)));
      }
      siteSelect.value = site;
      await refreshWatching();
      rerender(todoBox, todoSection(await todo(here(), site), siteName, () => refresh()) || h("div"));
      rerender(tableBox, sharingTable(page, (id) => emergencyNames.get(id) || id));
      rerender(mouBox, mouSection(mous.mous));
    } catch (err) {
      showBanner(why("your cameras' sharing", err));
    }
  }

  await refresh();
  // An emergency declared, extended or ended changes what partners may see: everything again. Someone starting or
  // stopping to watch under one changes the list of viewers only.
  onEmergencyEvents(() => refresh(), { onViewing: () => refreshWatching() });
  setInterval(refresh, REFRESH_SECONDS * 1000);
}

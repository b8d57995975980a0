// The roster of an MOU (GET/PUT /api/v1/mous/{mou}/roster): the named people of each recipient agency who may use
// its grants (New Jersey requires MOUs to name the designated individuals). Every change is a new revision,
// audited; the form is for the parties' editors (the server decides). Until the broker has the route, a 404 says so.
import { api, ApiError } from "./api.js";
import { h, showBanner } from "./dom.js";
import { fill, hashOf, screen, when, why } from "./moukit.js";

const path = (mou) => `/api/v1/mous/${encodeURIComponent(mou)}/roster`;

let rowCount = 0;
function entryRow(e, agencies) {
  rowCount += 1;
  const n = rowCount;
  const field = (key, label, value, list) => h("td", {}, h("label", { class: "visually-hidden", for: `roster-${key}-${n}` }, `${label} of row ${n}`),
    h("input", { id: `roster-${key}-${n}`, name: key, value: value || "", list: list || null, required: true, autocomplete: "off" }));
  const row = h("tr", { "data-sub": e.sub || "" }, field("agency", "Agency", e.agency || agencies[0] || "", "roster-agencies"),
    field("sub", "User id (sub)", e.sub), field("name", "Name", e.name),
    h("td", {}, h("button", { type: "button", onclick: () => { row.remove(); document.getElementById("roster-add")?.focus(); } }, `Remove row ${n}`)));
  return row;
}

function rosterForm(mou, r) {
  const body = h("tbody", {}, r.entries.map((e) => entryRow(e, r.required_for)));
  const out = h("p", { class: "form-result", role: "status", "aria-live": "polite" });
  const form = h("form", { class: "panel roster-form", "aria-labelledby": "roster-edit-title" },
    h("h2", { id: "roster-edit-title" }, "Change the roster"),
    h("datalist", { id: "roster-agencies" }, r.required_for.map((a) => h("option", { value: a }))),
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["Agency", "User id (sub)", "Name", "Remove"].map((t) => h("th", { scope: "col" }, t)))), body)),
    h("div", { class: "toolbar" },
      h("button", { type: "button", id: "roster-add", onclick: () => { const row = entryRow({}, r.required_for); body.append(row); row.querySelector("input").focus(); } }, "Add a person"),
      h("button", { type: "submit", class: "primary" }, "Save roster")), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const entries = [...body.rows].map((tr) => Object.fromEntries([...tr.querySelectorAll("input")].map((i) => [i.name, i.value.trim()])));
    try {
      const saved = await api(path(mou), { method: "PUT", body: { entries } });
      out.textContent = `Saved: roster revision ${saved.revision} (${saved.state}), ${saved.entries.length} people.`;
    } catch (err) {
      out.textContent = why("save the roster", err);
    }
  });
  return form;
}

export async function rosterPage(main, principal, mou) {
  const box = h("div", {}, h("p", {}, "Loading…"));
  screen(main, `Roster of ${mou}`, mou, box);
  let r;
  let history;
  try {
    [r, history] = await Promise.all([api(path(mou)), api(`/api/v1/mous/${encodeURIComponent(mou)}/versions`)]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.body.error !== "unknown_mou") {
      fill(box, h("p", { "data-roster": "unavailable" }, "This broker keeps no rosters yet (no GET /api/v1/mous/{mou}/roster): ",
        "everyone of a recipient agency with a role a grant names may use it."));
      return;
    }
    fill(box);
    showBanner(why(`read the roster of ${mou}`, err));
    return;
  }
  const required = r.required_for.length ? `Required for ${r.required_for.join(", ")}: only the people named here may use the MOU's grants.`
    : "This MOU requires no roster: everyone of a recipient agency with a role a grant names may use it.";
  fill(box, 
    h("p", {}, required, r.countersign ? " Changes need every party's approval." : " Changes take effect when saved (audited)."),
    h("p", {}, `Revision ${r.revision ?? 0} (${r.state || "none"}) `, r.sha256 ? hashOf(r.sha256) : null),
    h("table", { class: "roster" }, h("caption", {}, `${r.entries.length} people`),
      h("thead", {}, h("tr", {}, ["Agency", "User id", "Name"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, r.entries.map((e) => h("tr", { "data-sub": e.sub }, h("td", {}, e.agency), h("td", {}, e.sub), h("td", {}, e.name))))),
    history.can?.draft ? rosterForm(mou, r) : null,
    r.history?.length ? h("section", { "aria-labelledby": "roster-history-title" }, h("h2", { id: "roster-history-title" }, "Roster history"),
      h("ol", { reversed: true }, [...r.history].reverse().map((x) => h("li", {},
        `Revision ${x.revision} (${x.state}) by ${x.author_sub} (${x.author_agency}), ${when(x.at)}: `,
        `added ${(x.added || []).map((e) => e.name || e.sub || e).join(", ") || "nobody"}; removed ${(x.removed || []).map((e) => e.name || e.sub || e).join(", ") || "nobody"}`)))) : null);
}

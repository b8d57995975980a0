// The roster of an MOU (GET/PUT /api/v1/mous/{mou}/roster): the named people of each recipient agency who may use
// its grants (New Jersey requires MOUs to name the designated individuals). Every change is a new revision,
// audited; where the MOU says countersign, a revision waits for every party's approval of its hash
// (POST .../roster/approve). The form is for the parties' editors (the server decides each change).
import { api, ApiError } from "./api.js";
import { h, showBanner } from "./dom.js";
import { fill, hashOf, screen, when, why } from "./moukit.js";

const path = (mou) => `/api/v1/mous/${encodeURIComponent(mou)}/roster`;

let rowCount = 0;
function entryRow(e, agencies) {
  rowCount += 1;
  const n = rowCount;
  const field = (key, label, value, list) => h("td", {}, h("label", { class: "visually-hidden", for: `roster-${key}-${n}` }, `${label}, row ${n}`),
    h("input", { id: `roster-${key}-${n}`, name: key, value: value || "", list: list || null, required: true, autocomplete: "off" }));
  const row = h("tr", { "data-sub": e.sub || "" }, field("agency", "Agency", e.agency || agencies[0] || "", "roster-agencies"),
    field("sub", "User id (sub)", e.sub), field("name", "Name", e.name),
    h("td", {}, h("button", { type: "button", onclick: () => { row.remove(); document.getElementById("roster-add")?.focus(); } }, `Remove row ${n}`)));
  return row;
}

const people = (n) => (n === 1 ? "1 person" : `${n} people`);
const result = () => h("p", { class: "form-result", role: "status", "aria-live": "polite" });

function entriesTable(caption, entries) {
  return h("table", { class: "roster" }, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ["Agency", "User id", "Name"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, entries.map((e) => h("tr", { "data-sub": e.sub }, h("td", {}, e.agency), h("td", {}, e.sub), h("td", {}, e.name)))));
}

function rosterForm(mou, r) {
  const start = r.pending ? r.pending.entries : r.entries;
  const body = h("tbody", {}, start.map((e) => entryRow(e, r.required_for)));
  const out = result();
  const add = () => { const row = entryRow({}, r.required_for); body.append(row); row.querySelector("input").focus(); };
  const form = h("form", { class: "panel roster-form", "aria-labelledby": "roster-edit-title" },
    h("h2", { id: "roster-edit-title" }, "Change the roster"),
    h("p", { class: "hint" }, "Saving replaces the whole roster with these rows; your agency's editors change your agency's rows."),
    h("datalist", { id: "roster-agencies" }, r.required_for.map((a) => h("option", { value: a }))),
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["Agency", "User id (sub)", "Name", "Remove"].map((t) => h("th", { scope: "col" }, t)))), body)),
    h("div", { class: "toolbar" }, h("button", { type: "button", id: "roster-add", onclick: add }, "Add a person"),
      h("button", { type: "submit", class: "primary" }, "Save roster")), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const entries = [...body.rows].map((tr) => Object.fromEntries([...tr.querySelectorAll("input")].map((i) => [i.name, i.value.trim()])));
    try {
      const saved = await api(path(mou), { method: "PUT", body: { entries } });
      out.textContent = saved.pending ? `Saved as revision ${saved.pending.revision}: waiting for ${saved.pending.missing.join(" and ")} to approve.`
        : `Saved: revision ${saved.revision} is in force, ${people(saved.entries.length)}.`;
    } catch (err) {
      out.textContent = why("save the roster", err);
    }
  });
  return form;
}

function pendingSection(mou, p, principal) {
  const out = result();
  const form = h("form", { class: "panel confirm", "aria-labelledby": "roster-pending-title" },
    h("h2", { id: "roster-pending-title" }, `Revision ${p.revision} waits for approval`),
    h("p", {}, `By ${p.author_sub} (${p.author_agency}), ${when(p.at)} · `, hashOf(p.sha256),
      p.missing.length ? ` · waiting for ${p.missing.join(" and ")}` : ""),
    p.approvals.length ? h("ul", {}, p.approvals.map((a) => h("li", {}, `${a.agency}: ${a.sub} (${a.role}) approved ${when(a.at)}`))) : null,
    entriesTable(`${people(p.entries.length)} in revision ${p.revision}`, p.entries),
    p.missing.includes(principal.agency) ? h("button", { type: "submit", class: "primary", "data-sha": p.sha256 }, `Approve roster ${p.sha256.slice(0, 12)}`) : null,
    out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await api(`${path(mou)}/approve`, { method: "POST", body: { sha256: p.sha256 } });
      out.textContent = r.pending ? `Approved; waiting for ${r.pending.missing.join(" and ")}.` : `Approved: revision ${r.revision} is in force.`;
    } catch (err) {
      out.textContent = why("approve the roster", err);
    }
  });
  return form;
}

function historyList(r) {
  const names = (subs) => (subs || []).join(", ") || "nobody";
  return h("section", { "aria-labelledby": "roster-history-title" }, h("h2", { id: "roster-history-title" }, "Roster history"),
    h("ol", { reversed: true }, [...r.history].reverse().map((x) => h("li", { "data-revision": x.revision },
      `Revision ${x.revision} (${x.state.replaceAll("_", " ")}) by ${x.author_sub} (${x.author_agency}), ${when(x.at)}: added ${names(x.added)}; removed ${names(x.removed)}`))));
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
        "everyone of a recipient agency with a role a grant names may use the MOU."));
      return;
    }
    fill(box);
    showBanner(why(`read the roster of ${mou}`, err));
    return;
  }
  if (!r.required_for.length) {
    fill(box, h("p", { "data-roster": "none" }, "This MOU requires no roster: everyone of a recipient agency with a role a grant names may use it. ",
      "A version with roster: {agencies: [...]} names the agencies whose people must be on it."));
    return;
  }
  fill(box,
    h("p", {}, `Required for ${r.required_for.join(", ")}: only the people named here may use the MOU's grants; anyone else is denied (not on roster).`,
      r.countersign ? " A change takes effect once every party approved it." : " A change takes effect when it is saved (audited)."),
    h("p", {}, `In force: revision ${r.revision} `, hashOf(r.sha256)),
    entriesTable(`${people(r.entries.length)} in force`, r.entries),
    r.pending ? pendingSection(mou, r.pending, principal) : null,
    history.can?.draft ? rosterForm(mou, r) : null,
    r.history.length ? historyList(r) : null);
}

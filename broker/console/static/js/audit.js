// Auditor: chain verification, an emergency's timeline (timeline.js), the audit log with filters and pagination,
// CSV of the whole filtered view. No video.
import { api, ApiError } from "./api.js";
import { download, toCsv } from "./csv.js";
import { h, showBanner } from "./dom.js";
import { timelineSection } from "./timeline.js";

const FILTERS = [["since", "Since (RFC 3339)"], ["until", "Until"], ["principal", "Principal"], ["camera", "Camera"],
  ["emergency", "Emergency"], ["kind", "Kind"]];
const COLUMNS = ["seq", "ts", "kind", "principal_sub", "principal_agency", "camera", "action", "allowed", "reason", "clause", "emergency"];
// The CSV holds every field of each record (details as JSON, the hashes too): the log, not only the table.
const CSV_COLUMNS = ["seq", "ts", "kind", "principal_sub", "principal_agency", "principal_roles", "camera", "action",
  "allowed", "reason", "mou", "grant", "clause", "emergency", "client", "details", "prev_hash", "hash"];
const PAGE = 50;
const CSV_MAX = 100000;

function cell(rec, k) {
  const v = rec[k] ?? rec.details?.[k];
  return v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
}

export async function auditPage(main) {
  const inputs = Object.fromEntries(FILTERS.map(([k]) => [k, h("input", { id: `f-${k}`, name: k, autocomplete: "off" })]));
  const decision = h("select", { id: "f-decision", name: "decision" }, ["", "allow", "deny"].map((v) => h("option", { value: v }, v || "any")));
  const verify = h("p", { id: "verify", role: "status", "aria-live": "polite" }, "Verifying the chain…");
  const body = h("tbody");
  const pager = h("p", { class: "pager" });
  const form = h("form", { class: "filters", "aria-label": "Filter the audit log" },
    ...FILTERS.map(([k, label]) => h("div", { class: "field" }, h("label", { for: `f-${k}` }, label), inputs[k])),
    h("div", { class: "field" }, h("label", { for: "f-decision" }, "Decision"), decision),
    h("button", { type: "submit" }, "Apply"), h("button", { type: "button", id: "csv" }, "Download CSV"));
  const timeline = timelineSection({ onShowRecords: (id) => { inputs.emergency.value = id; form.requestSubmit(); form.scrollIntoView(); } });
  main.replaceChildren(h("h2", { class: "page-title" }, "Audit log"),
    h("section", { "aria-labelledby": "verify-title" }, h("h3", { id: "verify-title" }, "Chain verification"), verify),
    timeline.el,
    h("section", { "aria-labelledby": "log-title" }, h("h3", { id: "log-title" }, "Records"), form,
      h("div", { class: "table-wrap", role: "region", "aria-label": "Audit records", tabindex: "0" }, h("table", { id: "audit-table" }, h("caption", {}, "Audit records, oldest first"),
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))), body)), pager));

  let pages = [null];
  let applied = new URLSearchParams(); // the filter of the view shown (the CSV exports this view, all its pages)
  const readFilter = () => {
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (inputs[k].value.trim()) p.set(k, inputs[k].value.trim());
    if (decision.value) p.set("decision", decision.value);
    return p;
  };
  const query = (after, limit) => {
    const p = new URLSearchParams(applied);
    p.set("limit", String(limit));
    if (after !== null) p.set("after", String(after));
    return p;
  };
  const row = (r) => h("tr", { "data-seq": r.seq }, COLUMNS.map((k) => h("td", {}, k === "emergency" && r.emergency
    ? h("button", { type: "button", class: "link", title: `Show the timeline of ${r.emergency}`, onclick: () => timeline.show(r.emergency) }, r.emergency)
    : cell(r, k))));
  async function load(page) {
    try {
      const data = await api(`/api/v1/audit?${query(pages[page], PAGE)}`);
      showBanner("");
      body.replaceChildren(...data.records.map(row));
      if (data.next !== null && data.next !== undefined) pages[page + 1] = data.next;
      const prev = h("button", { type: "button", disabled: page === 0, onclick: () => load(page - 1) }, "Previous");
      const next = h("button", { type: "button", disabled: data.next == null, onclick: () => load(page + 1) }, "Next");
      pager.replaceChildren(prev, ` Page ${page + 1} · ${data.records.length} records `, next);
    } catch (err) {
      showBanner(err instanceof ApiError ? `Could not read the audit log: ${err.message}. ${err.advice()}` : String(err));
    }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); applied = readFilter(); pages = [null]; load(0); });
  const csvButton = form.querySelector("#csv");
  csvButton.addEventListener("click", async () => {
    csvButton.disabled = true;
    try {
      const all = [];
      let after = null;
      do { // the whole filtered view, page by page
        const data = await api(`/api/v1/audit?${query(after, 1000)}`);
        all.push(...data.records);
        after = data.next ?? null;
      } while (after !== null && all.length < CSV_MAX);
      const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
      download(toCsv([CSV_COLUMNS, ...all.map((r) => CSV_COLUMNS.map((k) => r[k]))]), `camgate-audit-${stamp}Z.csv`);
      showBanner(after !== null ? `The CSV holds the first ${all.length} records only: narrow the filter (since, until) for the rest.` : "");
    } catch (err) {
      showBanner(err instanceof ApiError ? `Could not export the audit log: ${err.message}. ${err.advice()}` : String(err));
    } finally {
      csvButton.disabled = false;
    }
  });
  api("/api/v1/audit/verify").then((r) => {
    const bound = (r.bindings || []).map((b) => `${b.table} ${b.row}: ${b.field}: ${b.problem}`);
    verify.textContent = r.ok ? `Chain intact: ${r.records} records, head ${String(r.head).slice(0, 16)}…`
      : r.chain_ok === false || r.bindings_ok !== false
        ? `Chain broken at record ${r.first_bad ?? "(a checkpoint)"}: ${r.problem}. Preserve the database and call the system owner.`
        : `Records altered outside the audit log: ${bound.slice(0, 3).join("; ")}${bound.length > 3 ? ` (and ${bound.length - 3} more)` : ""}. Preserve the database and call the system owner.`;
    verify.className = r.ok ? "ok" : "bad";
  }).catch((err) => { verify.textContent = `Could not verify: ${err.message}. ${err.advice ? err.advice() : ""}`; });
  await load(0);
}

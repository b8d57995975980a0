// Auditor: the audit log with filters and pagination, chain verification, CSV of the filtered view. No video.
import { api, ApiError } from "./api.js";
import { h, showBanner } from "./dom.js";

const FILTERS = [["since", "Since (RFC 3339)"], ["until", "Until"], ["principal", "Principal"], ["camera", "Camera"],
  ["emergency", "Emergency"], ["kind", "Kind"]];
const COLUMNS = ["seq", "ts", "kind", "principal_sub", "principal_agency", "camera", "action", "allowed", "reason", "clause", "emergency"];

function cell(rec, k) {
  const v = rec[k] ?? rec.details?.[k];
  return v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
}

function csv(records) {
  const q = (s) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [COLUMNS.join(","), ...records.map((r) => COLUMNS.map((k) => q(cell(r, k))).join(","))].join("\n");
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
  main.replaceChildren(h("h2", { class: "page-title" }, "Audit log"),
    h("section", { "aria-labelledby": "verify-title" }, h("h3", { id: "verify-title" }, "Chain verification"), verify),
    form,
    h("div", { class: "table-wrap", role: "region", "aria-label": "Audit records", tabindex: "0" }, h("table", { id: "audit-table" }, h("caption", {}, "Audit records, oldest first"),
      h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))), body)), pager);

  let pages = [null];
  let shown = [];
  const query = (after) => {
    const p = new URLSearchParams({ limit: "50" });
    for (const [k] of FILTERS) if (inputs[k].value.trim()) p.set(k, inputs[k].value.trim());
    if (decision.value) p.set("decision", decision.value);
    if (after !== null) p.set("after", String(after));
    return p;
  };
  async function load(page) {
    try {
      const data = await api(`/api/v1/audit?${query(pages[page])}`);
      showBanner("");
      shown = data.records;
      body.replaceChildren(...shown.map((r) => h("tr", {}, COLUMNS.map((k) => h("td", {}, cell(r, k))))));
      if (data.next !== null && data.next !== undefined) pages[page + 1] = data.next;
      const prev = h("button", { type: "button", disabled: page === 0, onclick: () => load(page - 1) }, "Previous");
      const next = h("button", { type: "button", disabled: data.next == null, onclick: () => load(page + 1) }, "Next");
      pager.replaceChildren(prev, ` Page ${page + 1} · ${shown.length} records `, next);
    } catch (err) {
      showBanner(err instanceof ApiError ? `Could not read the audit log: ${err.message}. ${err.advice()}` : String(err));
    }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); pages = [null]; load(0); });
  form.querySelector("#csv").addEventListener("click", async () => {
    const all = [];
    let after = null;
    do { // the whole filtered view, page by page
      const data = await api(`/api/v1/audit?${query(after).toString().replace("limit=50", "limit=1000")}`);
      all.push(...data.records);
      after = data.next ?? null;
    } while (after !== null && all.length < 100000);
    const a = h("a", { href: URL.createObjectURL(new Blob([csv(all)], { type: "text/csv" })), download: "camgate-audit.csv" });
    document.body.append(a); a.click(); a.remove();
  });
  api("/api/v1/audit/verify").then((r) => {
    verify.textContent = r.ok ? `Chain intact: ${r.records} records, head ${String(r.head).slice(0, 16)}…`
      : `Chain broken at record ${r.first_bad}: ${r.problem}. Preserve the database and call the system owner.`;
    verify.className = r.ok ? "ok" : "bad";
  }).catch((err) => { verify.textContent = `Could not verify: ${err.message}. ${err.advice ? err.advice() : ""}`; });
  await load(0);
}

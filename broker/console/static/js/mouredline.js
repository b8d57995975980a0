// Redline and impact between any two versions of an MOU: the broker's changes in words and their impact (from
// mouimpact.js), and a line-by-line redline of the two exact texts, computed here (linediff.js).
import { api } from "./api.js";
import { h, showBanner } from "./dom.js";
import { hunks, lineDiff } from "./linediff.js";
import { impactSection } from "./mouimpact.js";
import { fill, hashOf, link, screen, stateBadge, waitingFor, why } from "./moukit.js";

const MARK = { del: "−", ins: "+", same: " " };
const SAY = { del: "removed", ins: "added", same: "unchanged" };

function redlineTable(a, b) {
  const rows = hunks(lineDiff(a.text, b.text));
  const changed = rows.filter((r) => r.kind === "del" || r.kind === "ins").length;
  return h("section", { class: "panel", "aria-labelledby": "redline-title" },
    h("h2", { id: "redline-title" }, `Text redline (${changed} line(s) changed)`),
    h("div", { class: "table-wrap" }, h("table", { class: "redline" },
      h("caption", {}, `Version ${a.version} (left numbers) against version ${b.version} (right numbers); − removed, + added.`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, `v${a.version}`), h("th", { scope: "col" }, `v${b.version}`),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Change")), h("th", { scope: "col" }, "Text"))),
      h("tbody", {}, rows.map((r) => (r.kind === "skip"
        ? h("tr", { class: "gap" }, h("td", { colspan: 4 }, `… ${r.count} unchanged line(s)`))
        : h("tr", { class: r.kind }, h("td", { class: "ln" }, r.old ?? ""), h("td", { class: "ln" }, r.new ?? ""),
          h("td", { class: "mark" }, h("span", { "aria-hidden": "true" }, MARK[r.kind]), h("span", { class: "visually-hidden" }, SAY[r.kind])),
          h("td", {}, h("code", {}, r.text)))))))));
}

function versionHeader(v) {
  return h("li", {}, `Version ${v.version} `, stateBadge(v.state), " ", hashOf(v.sha256), v.effective ? ` · effective ${v.effective}` : "",
    waitingFor(v) ? ` · ${waitingFor(v)}` : "");
}

export async function redlinePage(main, principal, mou, from, to) {
  const box = h("div", {}, h("p", {}, "Loading…"));
  screen(main, `Redline of ${mou}: version ${from} → ${to}`, mou, box);
  try {
    const base = `/api/v1/mous/${encodeURIComponent(mou)}/versions`;
    const [a, b] = await Promise.all([api(`${base}/${from}`), api(`${base}/${to}`)]);
    const impact = await impactSection(principal, mou, from, to);
    fill(box, h("ul", { class: "compared" }, versionHeader(a), versionHeader(b)),
      b.can?.approve ? h("p", { class: "actions" }, link(`Approve version ${b.version}…`, mou, "approve", b.version)) : null,
      impact, redlineTable(a, b));
  } catch (err) {
    fill(box);
    showBanner(why(`compare versions ${from} and ${to} of ${mou}`, err));
  }
}

// The version history of one MOU (GET /api/v1/mous/{mou}/versions): every version's state, its revisions (who
// posted which text, when), the approvals of its current hash with their times, stale approvals (withdrawn, or of
// an earlier text), who still has to approve, and the controls the caller may use (the answer's `can`).
import { api } from "./api.js";
import { h, showBanner } from "./dom.js";
import { draftLink, fill, hashOf, link, redlineLink, route, screen, stateBadge, waitingFor, when, why } from "./moukit.js";

const approvalLine = (a) => h("li", { "data-agency": a.agency },
  `${a.agency}: ${a.sub} (${a.role}) approved ${when(a.approved_at)}`, " ", hashOf(a.sha256, "Approved hash"),
  a.withdrawn_at ? ` · withdrawn ${when(a.withdrawn_at)} by ${a.withdrawn_by}` : "");

function revisionsList(v) {
  return h("details", { class: "revisions" }, h("summary", {}, `Revisions (${v.revisions.length})`),
    h("ol", {}, v.revisions.map((r) => h("li", { "data-revision": r.revision },
      `Revision ${r.revision}: ${r.imported ? "imported" : `by ${r.author_sub} (${r.author_agency})`}, ${when(r.created_at)}, ${r.bytes} bytes `,
      hashOf(r.sha256, `Revision ${r.revision} hash`)))));
}

function versionRow(m, v) {
  const can = v.can || {};
  const wait = waitingFor(v);
  return h("article", { class: "panel version", "data-version": v.version, "aria-labelledby": `v-${v.version}` },
    h("h3", { id: `v-${v.version}` }, `Version ${v.version} `, stateBadge(v.state)),
    h("p", {}, v.effective ? `Effective ${v.effective}` : "", v.expires ? `, expires ${v.expires}` : "",
      v.start ? ` · ${new Date(v.start) <= new Date() ? "took" : "takes"} effect ${when(v.start)}` : "", " · current text ", hashOf(v.sha256), ` (revision ${v.revision})`),
    wait ? h("p", { class: "waiting" }, wait, ".") : null,
    v.approvals.length ? h("ul", { class: "approvals", "aria-label": `Approvals of version ${v.version}` }, v.approvals.map(approvalLine))
      : h("p", { class: "muted" }, v.revisions.some((r) => r.imported) ? "Imported in force (signed on paper)." : "No approval of this text yet."),
    v.stale_approvals.length ? h("div", { class: "stale" }, h("p", {}, "Stale approvals (withdrawn, or of an earlier text):"),
      h("ul", {}, v.stale_approvals.map(approvalLine))) : null,
    revisionsList(v),
    h("p", { class: "actions" }, link("Read the text", m.mou, "edit", v.version),
      redlineLink(m, v, (n) => `Redline against version ${n}`),
      can.approve ? [" · ", link(`Approve version ${v.version}…`, m.mou, "approve", v.version)] : null,
      can.withdraw ? [" · ", link("Withdraw my agency's approval…", m.mou, "withdraw", v.version)] : null));
}

function compareForm(m) {
  const opts = (sel) => m.versions.map((v) => h("option", { value: v.version, selected: v.version === sel || null }, `Version ${v.version}`));
  const last = m.versions.at(-1).version;
  const from = h("select", { id: "cmp-from" }, opts(Math.max(1, last - 1)));
  const to = h("select", { id: "cmp-to" }, opts(last));
  const form = h("form", { class: "inline compare", "aria-label": "Compare two versions" },
    h("label", { for: "cmp-from" }, "Compare"), from, h("label", { for: "cmp-to" }, "with"), to,
    h("button", { type: "submit" }, "Show redline and impact"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = route(m.mou, "diff", from.value, to.value);
  });
  return form;
}

export async function historyPage(main, principal, mou) {
  const box = h("div", {}, h("p", {}, "Loading…"));
  screen(main, `MOU ${mou}`, mou, box);
  try {
    const m = await api(`/api/v1/mous/${encodeURIComponent(mou)}/versions`);
    document.getElementById("screen-title").textContent = m.title || mou;
    const can = m.can || {};
    fill(box, 
      h("p", {}, stateBadge(m.state), m.in_force ? ` · version ${m.in_force} in force` : " · no version in force"),
      m.terminated ? h("p", { class: "never" }, `Terminated ${when(m.terminated.at)} by ${m.terminated.sub} (${m.terminated.agency}): ${m.terminated.reason}`) : null,
      h("p", { class: "actions" }, can.draft ? [draftLink(m), " · "] : null,
        link("Roster", mou, "roster"), can.terminate ? [" · ", link("Terminate this MOU…", mou, "terminate")] : null),
      m.versions.length > 1 ? compareForm(m) : null,
      h("h2", {}, `Versions (${m.versions.length}), newest first`),
      [...m.versions].reverse().map((v) => versionRow(m, v)));
  } catch (err) {
    fill(box);
    showBanner(why(`read MOU ${mou}`, err));
  }
}

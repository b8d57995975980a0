// MOU administration (school IT and police command staff): the MOU list by state, and the router of its screens,
// one screen per action: #mous/<mou> (history), /edit[/<v>] (draft editor), /diff/<from>/<to> (redline and
// impact), /approve/<v>, /withdraw/<v>, /terminate (confirmations naming the hash), /roster; #mous/new.
import { api } from "./api.js";
import { h, showBanner } from "./dom.js";
import { confirmPage } from "./mouconfirm.js";
import { editorPage } from "./moueditor.js";
import { historyPage } from "./mouhistory.js";
import { draftLink, fill, link, screen, stateBadge, STATES, waitingFor, why } from "./moukit.js";
import { redlinePage } from "./mouredline.js";
import { rosterPage } from "./roster.js";

function versionItem(m, v) {
  const wait = waitingFor(v);
  return h("li", { "data-version": v.version }, link(`Version ${v.version}`, m.mou, "edit", v.version), " ",
    stateBadge(v.state), v.effective ? ` from ${v.effective}` : "", v.expires ? ` to ${v.expires}` : "",
    wait ? h("span", { class: "waiting" }, ` · ${wait}`) : null);
}

function mouCard(m) {
  const versions = [...m.versions].reverse();
  return h("article", { class: "panel mou-card", "data-mou": m.mou, "aria-labelledby": `card-${m.mou}` },
    h("h3", { id: `card-${m.mou}` }, link(m.title || m.mou, m.mou), h("span", { class: "mou-id" }, ` ${m.mou}`)),
    h("p", {}, stateBadge(m.state), m.in_force ? ` · version ${m.in_force} in force` : " · no version in force",
      m.terminated ? ` · terminated by ${m.terminated.agency} on ${m.terminated.at.slice(0, 10)}` : ""),
    h("ul", { class: "versions", "aria-label": `Versions of ${m.mou}` }, versions.map((v) => versionItem(m, v))),
    h("p", { class: "actions" }, link("History and approvals", m.mou),
      m.can?.draft ? [" · ", draftLink(m)] : null,
      " · ", link("Roster", m.mou, "roster")));
}

async function listPage(main) {
  const box = h("div", {}, h("p", {}, "Loading…"));
  screen(main, "MOUs", null, box);
  try {
    const list = await api("/api/v1/mou-versions");
    const order = Object.keys(STATES);
    const byState = order.map((s) => [s, list.mous.filter((m) => m.state === s)]).filter(([, ms]) => ms.length);
    fill(box, 
      list.source === "files" ? h("p", { class: "hint" }, "MOUs are kept in files here (mous.source = \"files\"): ",
        "edit them under policy.mous and run camgate reload. This list is for reading.") : null,
      list.can_draft && list.source === "store" ? h("p", {}, link("Draft a new MOU", "new")) : null,
      byState.length ? byState.map(([s, ms]) => h("section", { "aria-labelledby": `state-${s}` },
        h("h2", { id: `state-${s}` }, `${STATES[s]} (${ms.length})`), ms.map(mouCard)))
        : h("p", {}, "No MOU your agency is a party to is kept by the broker."));
  } catch (err) {
    fill(box);
    showBanner(why("read the MOUs", err));
  }
}

export async function mousPage(main, principal, path = []) {
  const [mou, screenName, a, b] = path;
  if (!mou) return listPage(main);
  if (mou === "new") return editorPage(main, principal, null, null);
  if (!screenName) return historyPage(main, principal, mou);
  if (screenName === "edit") return editorPage(main, principal, mou, a ? Number(a) : null);
  if (screenName === "diff") return redlinePage(main, principal, mou, Number(a), Number(b));
  if (["approve", "withdraw", "terminate"].includes(screenName)) return confirmPage(main, principal, mou, screenName, Number(a));
  if (screenName === "roster") return rosterPage(main, principal, mou);
  return listPage(main);
}

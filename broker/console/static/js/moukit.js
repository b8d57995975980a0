// What the MOU screens share: state names in words, a hash shown short (full on hover and on expanding), links
// between the screens (#mous/<mou>/...), and errors in words.
import { ApiError } from "./api.js";
import { h } from "./dom.js";

export const STATES = {
  draft: "Draft", proposed: "Proposed", approved: "Approved (waiting for its start)", in_force: "In force",
  superseded: "Superseded", expired: "Expired", terminated: "Terminated",
};

export const stateBadge = (state) => h("span", { class: `state state-${state}`, "data-state": state }, STATES[state] || state);

// The first 12 hex of a SHA-256, the full hash in the title and in a disclosure a keyboard opens.
export function hashOf(sha, label = "SHA-256") {
  return h("span", { class: "hash" }, h("code", { title: sha, "data-sha": sha }, sha.slice(0, 12)),
    h("details", { class: "hash-full" }, h("summary", {}, h("span", { class: "visually-hidden" }, `${label}: `), "full hash"),
      h("code", {}, sha)));
}

export const route = (...parts) => ["#mous", ...parts.map((p) => encodeURIComponent(String(p)))].join("/");

// Replace a box's content with children that may be null or nested lists (as h() takes them).
export const fill = (box, ...children) => box.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
export const link = (text, ...parts) => h("a", { href: route(...parts) }, text);

export const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short", hour12: false }) : "");

export function why(what, err) {
  if (err instanceof ApiError) return `Could not ${what}: ${err.message}. ${err.advice()}`;
  return `Could not ${what}: ${err}`;
}

// Who still has to approve, in words.
export function waitingFor(v) {
  if (!["draft", "proposed"].includes(v.state)) return "";
  return v.missing.length ? `Waiting for ${v.missing.join(" and ")} to approve` : "";
}

// A screen's title and a way back to the MOU (every action is one screen of its own).
export function screen(main, title, mou, ...body) {
  fill(main,
    h("p", { class: "crumbs" }, link("All MOUs"), mou ? [" › ", link(mou, mou)] : null),
    h("h2", { class: "page-title", id: "screen-title", tabindex: "-1" }, title), ...body);
}

// " · " and a link to the redline of ``v`` against the version stored before it (none for the first stored
// version: an imported MOU may start at version 3).
export function redlineLink(history, v, text = (n) => `Redline and impact against version ${n}`) {
  const before = history.versions.filter((x) => x.version < v.version).at(-1);
  return before ? [" · ", link(text(before.version), v.mou, "diff", before.version, v.version)] : null;
}

// The editor's link: revise the newest version while it is open, else draft the next one from the text in force.
export function draftLink(m) {
  const latest = m.versions.at(-1);
  const open = latest && ["draft", "proposed"].includes(latest.state);
  return link(open ? `Revise draft version ${latest.version}` : "Draft a new version", m.mou, "edit");
}

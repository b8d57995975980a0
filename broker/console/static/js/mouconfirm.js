// Approve, withdraw, terminate: each one screen with a confirmation that names the exact text's hash (its first 12
// hex; the full SHA-256 on hover and on expanding). An approval names that hash to the broker, which answers 409
// if the text changed meanwhile: what was read is what is signed.
import { api } from "./api.js";
import { h, showBanner } from "./dom.js";
import { fill, hashOf, link, redlineLink, screen, stateBadge, waitingFor, why } from "./moukit.js";

const base = (mou) => `/api/v1/mous/${encodeURIComponent(mou)}`;

function result(text) {
  const out = h("p", { class: "form-result", role: "status", "aria-live": "polite" });
  out.textContent = text;
  return out;
}

async function act(form, run, done) {
  const out = form.querySelector(".form-result");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await run();
    out.textContent = done(answer);
    showBanner("");
    form.querySelector(".next")?.removeAttribute("hidden");
  } catch (err) {
    out.textContent = why("do this", err);
    button.disabled = false;
  }
}

function versionScreen(mou, kind, v, history) {
  const approving = kind === "approve";
  const short = v.sha256.slice(0, 12);
  const form = h("form", { class: "panel confirm", "aria-labelledby": "screen-title" },
    h("p", {}, `Version ${v.version} `, stateBadge(v.state), v.effective ? ` · effective ${v.effective}` : "",
      v.expires ? ` to ${v.expires}` : ""),
    h("p", { class: "confirm-hash" }, approving ? "You approve, for your agency, exactly the text with SHA-256 "
      : "You take back your agency's approval of the text with SHA-256 ", hashOf(v.sha256), "."),
    h("p", {}, approving ? "Any later change makes a new hash, and every party approves again. "
      : "The version will not take effect until your agency approves again. ", waitingFor(v) ? `${waitingFor(v)}.` : ""),
    h("p", {}, "Read first: ", link("the text", mou, "edit", v.version),
      redlineLink(history, v, (n) => `the redline and impact against version ${n}`)),
    h("button", { type: "submit", class: approving ? "primary" : "danger", "data-sha": v.sha256 },
      approving ? `Approve ${short}` : `Withdraw approval of ${short}`),
    result(""),
    h("p", { class: "next", hidden: true }, link("Back to the history", mou)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, () => api(`${base(mou)}/versions/${v.version}/${kind}`, { method: "POST", body: approving ? { sha256: v.sha256 } : undefined }),
      (a) => (approving ? `Approved ${short}. Version ${a.version} is now ${a.state.replace("_", " ")}. ${waitingFor(a)}`
        : `Approval withdrawn. Version ${a.version} is now ${a.state.replace("_", " ")}.`));
  });
  return form;
}

function terminateScreen(mou, m) {
  const basis = m.versions.find((v) => v.version === m.in_force) || m.versions.at(-1);
  const reason = h("textarea", { id: "terminate-reason", rows: 3, required: true, minlength: 10, "aria-describedby": "terminate-hint" });
  const form = h("form", { class: "panel confirm", "aria-labelledby": "screen-title" },
    h("p", { class: "confirm-hash" }, `You end MOU ${mou} at once: version ${basis.version} (SHA-256 `, hashOf(basis.sha256), "). ",
      "No grant or emergency under it is honoured from now on, open viewings are cut, and the parties get a notice."),
    h("div", { class: "field" }, h("label", { for: "terminate-reason" }, "Reason (recorded and sent to the parties)"), reason,
      h("p", { class: "hint", id: "terminate-hint" }, "At least 10 characters.")),
    h("button", { type: "submit", class: "danger", "data-sha": basis.sha256 }, `Terminate ${mou}`),
    result(""),
    h("p", { class: "next", hidden: true }, link("Back to the history", mou)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, () => api(`${base(mou)}/terminate`, { method: "POST", body: { reason: reason.value } }),
      (a) => `MOU ${a.mou} is terminated.`);
  });
  return form;
}

export async function confirmPage(main, principal, mou, kind, version) {
  const title = { approve: `Approve version ${version} of ${mou}`, withdraw: `Withdraw approval of version ${version} of ${mou}`,
    terminate: `Terminate ${mou}` }[kind];
  const box = h("div", {}, h("p", {}, "Loading…"));
  screen(main, title, mou, box);
  try {
    if (kind === "terminate") {
      const m = await api(`${base(mou)}/versions`);
      fill(box, m.can?.terminate ? terminateScreen(mou, m)
        : h("p", {}, "You may not terminate this MOU (or it has ended already). ", link("Back to the history", mou)));
    } else {
      const [v, history] = await Promise.all([api(`${base(mou)}/versions/${version}`), api(`${base(mou)}/versions`)]);
      fill(box, v.can?.[kind] ? versionScreen(mou, kind, v, history)
        : h("p", {}, `You may not ${kind} version ${version} now (state: ${v.state.replace("_", " ")}). `, link("Back to the history", mou)));
    }
    document.getElementById("screen-title").focus();
  } catch (err) {
    fill(box);
    showBanner(why(`read MOU ${mou}`, err));
  }
}

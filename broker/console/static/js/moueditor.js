// The draft editor: the MOU's YAML with line numbers; Save posts it (POST /api/v1/mous, application/yaml). A draft
// that does not validate is kept nowhere: its 422 lines ("draft.yaml:LINE: path: message") are listed and marked
// at their lines. A saved text is shown beside in plain words, with its lint (never blocking). A new version
// starts from the text in force, its `version:` raised to the next number.
import { api, ApiError } from "./api.js";
import { CodeBox, parseLine } from "./codebox.js";
import { h, showBanner } from "./dom.js";
import { fill, hashOf, link, redlineLink, screen, stateBadge, waitingFor, why } from "./moukit.js";
import { mouArticle } from "./mous.js";

const TEMPLATE = `mou: new-mou-id
title: What this MOU shares
version: 1
timezone: America/New_York
effective: 2027-01-01
parties:
  owner: my-agency
  recipients: [partner-agency]
sites: ["*"]
zones:
  exterior: {}
grants:
  - id: G1
    clause: "1.1"
    agency: partner-agency
    roles: [officer]
    zones: [exterior]
    actions: [live]
    when: always
`;

const base = (mou) => `/api/v1/mous/${encodeURIComponent(mou)}`;
const nextVersion = (text, n) => text.replace(/^version:\s*\d+/m, `version: ${n}`);

function findingsList(box, title, items, kind) {
  if (!items.length) return null;
  return h("section", { class: `findings ${kind}`, "aria-labelledby": `${kind}-title` },
    h("h3", { id: `${kind}-title` }, `${title} (${items.length})`),
    h("ul", {}, items.map((f) => h("li", { "data-line": f.line, "data-code": f.code || null },
      f.line ? h("button", { type: "button", class: "goto", onclick: () => box.goTo(f.line) }, `Line ${f.line}`) : null,
      " ", h("code", {}, f.path), `: ${f.message}`))));
}

// What the editor starts from: a version's text (revised in place while it is open), the next version from the
// text in force, or the template of a new MOU.
async function startingPoint(mou, version) {
  if (!mou) return { text: TEMPLATE, heading: "Draft a new MOU", editable: true, shown: null };
  const history = await api(`${base(mou)}/versions`);
  const latest = history.versions.at(-1);
  const open = (v) => ["draft", "proposed"].includes(v.state);
  if (version === null && open(latest) && history.can?.draft) version = latest.version;
  if (version !== null) {
    const v = await api(`${base(mou)}/versions/${version}`);
    const editable = Boolean(v.can?.draft) && open(v);
    return { text: v.text, heading: `${editable ? "Revise" : "Read"} version ${v.version} of ${mou}`, editable, shown: v, history };
  }
  const from = history.versions.find((v) => v.version === history.in_force) || latest;
  const v = await api(`${base(mou)}/versions/${from.version}`);
  const n = latest.version + 1;
  return { text: nextVersion(v.text, n), heading: `Draft version ${n} of ${mou}`, editable: Boolean(history.can?.draft),
    note: `Starting from the text of version ${from.version} (${from.state.replace("_", " ")}); its version number is raised to ${n}.`, shown: null, history };
}

export async function editorPage(main, principal, mou, version) {
  const box = new CodeBox("mou-text", "MOU text (YAML, the contract's section 2)");
  const findings = h("div", { id: "mou-text-findings" });
  const status = h("p", { class: "form-result", role: "status", "aria-live": "polite" });
  const reading = h("div", { class: "reading" });
  const save = h("button", { type: "submit", class: "primary" }, "Save draft");
  const form = h("form", { class: "editor-form", "aria-label": "MOU draft" }, box.el, h("div", { class: "toolbar" }, save), status, findings);
  screen(main, mou ? `MOU ${mou}` : "New MOU", mou, h("p", { class: "hint", id: "editor-note" }),
    h("div", { class: "editor" }, form, h("section", { class: "panel", "aria-labelledby": "reading-title" },
      h("h2", { id: "reading-title" }, "In plain words"), reading)));

  let versions = null; // the MOU's history, for the link to the redline against the version before

  function show(v) {
    const lint = v.lint || [];
    box.mark(new Map(lint.filter((f) => f.line).map((f) => [f.line, "lint"])));
    fill(findings, findingsList(box, "Lint: this draft shares less, or differently, than it may mean", lint, "lint") || "");
    const wait = waitingFor(v);
    fill(reading, 
      h("p", {}, `Version ${v.version}, revision ${v.revision} `, stateBadge(v.state), " · ", hashOf(v.sha256), wait ? ` · ${wait}.` : ""),
      h("p", { class: "actions" }, link("History", v.mou),
        versions ? redlineLink(versions, v) : null,
        v.can?.approve ? [" · ", link(`Approve version ${v.version}…`, v.mou, "approve", v.version)] : null),
      v.plain ? mouArticle(v.plain) : h("p", {}, "This text no longer validates against the inventory."));
  }

  try {
    const start = await startingPoint(mou, version);
    versions = start.history || null;
    box.value = start.text;
    box.readOnly = !start.editable;
    save.hidden = !start.editable;
    document.getElementById("screen-title").textContent = start.heading;
    document.getElementById("editor-note").textContent = start.note
      || (start.editable ? "Save keeps every text: a change after an approval makes a new hash, and the parties approve again." : "");
    if (!start.editable && start.history?.can?.draft) {
      document.getElementById("editor-note").append(" ", link("Start a new version from the text in force", mou, "edit"));
    }
    if (start.shown) show(start.shown);
    else fill(reading, h("p", { class: "muted" }, "Save the draft to read it in plain words, with its lint."));
  } catch (err) {
    showBanner(why(`read MOU ${mou}`, err));
    return;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    save.disabled = true;
    status.textContent = "Saving…";
    try {
      const saved = await api("/api/v1/mous", { method: "POST", yaml: box.value });
      const v = await api(`${base(saved.mou)}/versions/${saved.version}`);
      versions = await api(`${base(saved.mou)}/versions`);
      history.replaceState(null, "", `#mous/${encodeURIComponent(saved.mou)}/edit/${saved.version}`);
      const wait = waitingFor(v);
      status.textContent = `Saved: version ${v.version}, revision ${v.revision}, SHA-256 ${v.sha256.slice(0, 12)}.${wait ? ` ${wait}.` : ""}`;
      showBanner("");
      show(v);
    } catch (err) {
      const lines = err instanceof ApiError && err.status === 422 ? (err.body.lines || []).map(parseLine) : [];
      box.mark(new Map(lines.filter((f) => f.line).map((f) => [f.line, "error"])));
      fill(findings, findingsList(box, "Not saved: correct these lines", lines, "errors") || "");
      status.textContent = lines.length ? `Not saved: ${lines.length} error(s), listed below and marked at their lines.` : why("save the draft", err);
      if (lines.length && lines[0].line) box.goTo(lines[0].line);
    } finally {
      save.disabled = false;
    }
  });
}

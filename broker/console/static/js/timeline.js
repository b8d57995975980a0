// Auditor: an emergency's timeline (GET /api/v1/emergencies/{id}/timeline): who watched which camera when, as a
// Gantt chart (gantt.js) and, for screen readers and copying, the same data as tables.
import { api, ApiError } from "./api.js";
import { h } from "./dom.js";
import { barSpan, duration, ganttChart, lanes, timeText } from "./gantt.js";

const WHEN = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false };
const ENDED = { idle: "stopped watching", shutdown: "broker stopped" };

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], WHEN) : "";
}

function timeCell(iso) {
  return iso ? h("time", { datetime: iso, title: iso }, timeText(new Date(iso).getTime())) : "";
}

export function endedText(reason) {
  if (!reason) return "still open";
  if (reason.startsWith("access_revoked:")) return `access revoked: ${reason.slice(15).replaceAll("_", " ")}`;
  return ENDED[reason] || reason.replaceAll("_", " ");
}

function zone() {
  const off = -new Date().getTimezoneOffset();
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, "0");
  return `UTC${off < 0 ? "−" : "+"}${hh}:${String(Math.abs(off) % 60).padStart(2, "0")}`;
}

function summary(data) {
  const em = data.emergency;
  const closing = em.ended_at ? `ended ${when(em.ended_at)}${em.ended_by ? ` by ${em.ended_by.sub}` : ""}`
    : em.status === "active" ? `active until ${when(em.expires_at)}` : `expired ${when(em.expires_at)}`;
  const people = new Set(data.sessions.map((s) => s.principal_sub)).size;
  const cameras = new Set(data.sessions.map((s) => s.camera)).size;
  const n = data.sessions.length;
  return `Emergency ${em.id} at ${em.site}${em.incident ? ` (incident ${em.incident})` : ""}: declared ${when(em.declared_at)} by `
    + `${em.declared_by.sub} (${em.declared_by.agency}), ${closing}. ${n} viewing session${n === 1 ? "" : "s"} by ${people} `
    + `${people === 1 ? "person" : "people"} on ${cameras} camera${cameras === 1 ? "" : "s"}.`;
}

function tables(data) {
  const now = new Date(data.now).getTime();
  const sessions = h("table", { class: "tl-table", id: "tl-sessions" },
    h("caption", {}, `Viewing sessions under ${data.emergency.id}, by start`),
    h("thead", {}, h("tr", {}, ["Person", "Agency", "Camera", "Viewing", "First request", "Last request", "Ended", "Duration",
      "Requests", "Ended because"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, data.sessions.map((s) => {
      const [a, b] = barSpan(s, now);
      return h("tr", { "data-session": s.session, "data-principal": s.principal_sub, "data-camera": s.camera },
        h("th", { scope: "row" }, s.principal_sub), h("td", {}, s.agency), h("td", {}, s.camera), h("td", {}, s.action),
        h("td", {}, timeCell(s.started)), h("td", {}, timeCell(s.last)), h("td", {}, timeCell(s.ended)),
        h("td", {}, duration(b - a)), h("td", {}, s.requests ?? ""), h("td", {}, endedText(s.reason_ended)));
    })));
  const steps = h("table", { class: "tl-table", id: "tl-transitions" },
    h("caption", {}, "The emergency's transitions"),
    h("thead", {}, h("tr", {}, ["When", "What", "Who", "Details"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, data.transitions.map((t) => h("tr", { "data-kind": t.kind },
      h("td", {}, timeCell(t.at)), h("th", { scope: "row" }, t.kind), h("td", {}, t.by ? `${t.by.sub} (${t.by.agency})` : "camgate"),
      h("td", {}, [t.minutes ? `+${t.minutes} min, until ${when(t.expires_at)}` : "", t.reason || ""].filter(Boolean).join("; "))))));
  return h("details", { class: "tl-details" }, h("summary", {}, "Timeline as a table"),
    h("div", { class: "table-wrap" }, steps), h("div", { class: "table-wrap" }, sessions));
}

const LEGEND = [["live", "Live viewing"], ["playback", "Recorded footage"], ["open", "Still open"],
  ["declare", "Declared"], ["extend", "Extended or confirmed"], ["end", "Ended or expired"]];

// The section: a picker of recent emergencies, the chart and its tables. `onShowRecords(id)` filters the log.
export function timelineSection({ onShowRecords }) {
  const pick = h("select", { id: "tl-pick", name: "emergency" }, h("option", { value: "" }, "Loading…"));
  const status = h("p", { class: "hint", role: "status", "aria-live": "polite" });
  const view = h("div", { class: "tl-view" });
  const records = h("button", { type: "button", id: "tl-records", hidden: true }, "Show its records in the log");
  const refresh = h("button", { type: "button", id: "tl-refresh", hidden: true }, "Refresh");
  const el = h("section", { class: "timeline", id: "timeline", "aria-labelledby": "tl-title" },
    h("h3", { id: "tl-title" }, "Emergency timeline: who watched which camera when"),
    h("div", { class: "inline" }, h("label", { for: "tl-pick" }, "Emergency"), pick, refresh, records), status, view);
  let data = null;

  function draw() {
    if (!data) return;
    const wide = Math.max(640, view.clientWidth || 900);
    const people = lanes(data.sessions).length;
    const chart = ganttChart(data, wide, {
      title: `Timeline of emergency ${data.emergency.id}`,
      description: `${summary(data)} ${people} lane${people === 1 ? "" : "s"}, one per person and camera. Times in ${zone()}. `
        + "The same data is in the table \"Timeline as a table\" below the chart.",
    });
    const open = view.querySelector("details")?.open;
    const details = tables(data);
    details.open = Boolean(open);
    view.replaceChildren(h("p", { class: "tl-summary" }, summary(data)),
      h("p", { class: "hint" }, h("strong", {}, "Threat: "), data.emergency.threat || "(none recorded)"),
      h("figure", { class: "tl-figure" }, h("div", { class: "tl-scroll" }, chart),
        h("figcaption", { class: "tl-legend" }, LEGEND.map(([k, label]) => h("span", {}, h("span", { class: `tl-key tl-key-${k}`, "aria-hidden": "true" }), label)),
          h("span", { class: "hint" }, `Times in ${zone()}. A bar runs from a session's first to its last request.`))),
      ...(data.complete ? [] : [h("p", { class: "tl-warning" }, "Only the first 20,000 records of this emergency are drawn: filter the log below for the rest.")]),
      details);
  }

  async function show(id) {
    if (!id) return;
    if (![...pick.options].some((o) => o.value === id)) pick.append(h("option", { value: id }, id));
    pick.value = id;
    status.textContent = `Loading the timeline of ${id}…`;
    try {
      data = await api(`/api/v1/emergencies/${encodeURIComponent(id)}/timeline`);
      status.textContent = "";
      records.hidden = refresh.hidden = false;
      draw();
    } catch (err) {
      data = null;
      view.replaceChildren();
      status.textContent = err instanceof ApiError ? `Could not read the timeline of ${id}: ${err.message}. ${err.advice()}` : String(err);
    }
  }

  async function loadPicker() {
    try {
      const { emergencies } = await api("/api/v1/emergencies");
      const recent = emergencies.sort((a, b) => b.declared_at.localeCompare(a.declared_at)).slice(0, 100);
      const chosen = pick.value;
      pick.replaceChildren(h("option", { value: "" }, recent.length ? "Choose an emergency…" : "No emergencies yet"),
        ...recent.map((e) => h("option", { value: e.id }, `${when(e.declared_at)} · ${e.site} · ${e.incident || e.id} · ${e.status}`)));
      if (chosen) pick.value = chosen;
    } catch (err) {
      status.textContent = err instanceof ApiError ? `Could not list the emergencies: ${err.message}. ${err.advice()}` : String(err);
    }
  }

  pick.addEventListener("change", () => show(pick.value));
  refresh.addEventListener("click", () => show(pick.value));
  records.addEventListener("click", () => onShowRecords(pick.value));
  let pending = 0;
  window.addEventListener("resize", () => { cancelAnimationFrame(pending); pending = requestAnimationFrame(draw); });
  loadPicker();
  return { el, show: (id) => { el.scrollIntoView({ block: "start" }); return show(id); } };
}

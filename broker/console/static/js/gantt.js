// The emergency's timeline as an SVG Gantt chart: a clock axis, one lane per (person, camera), a bar per viewing
// session (first to last request; a session still open runs to "now", striped), vertical markers for the
// emergency's declaration, extensions, confirmation and end. The SVG is one image for screen readers (title and
// description); the same data is in the table next to it (timeline.js).
import { svg } from "./dom.js";

const LABEL_W = 230; // lane labels
const RIGHT = 28;
const LABEL_ROW = 15; // marker labels: up to three rows above the clock axis
const LANE_H = 38;
const BAR_H = 20;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
const MARKER_TEXT = { declare: "Declared", extend: "Extended", confirm: "Confirmed", end: "Ended", expire: "Expired", now: "Now" };

const ms = (iso) => new Date(iso).getTime();
const textWidth = (text) => text.length * 7 + 4; // 12px system-ui, bold: an upper bound

export function timeText(t, seconds = true) {
  return new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: seconds ? "2-digit" : undefined, hour12: false });
}

export function duration(msecs) {
  const s = Math.max(0, Math.round(msecs / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// Where the emergency's shaded period ends: its end, its expiry, or now while active.
export function periodEnd(data) {
  const em = data.emergency;
  if (em.ended_at) return ms(em.ended_at);
  return em.status === "active" ? ms(data.now) : ms(em.expires_at);
}

// A session's bar: [first request, last request] once closed, [first request, now] while open.
export function barSpan(session, now) {
  const start = ms(session.started);
  const end = session.ended ? ms(session.last || session.ended) : now;
  return [start, Math.max(start, end)];
}

export function lanes(sessions) {
  const byKey = new Map();
  for (const s of sessions) {
    const key = `${s.principal_sub}\u0000${s.camera}`;
    if (!byKey.has(key)) byKey.set(key, { sub: s.principal_sub, agency: s.agency, camera: s.camera, sessions: [] });
    byKey.get(key).sessions.push(s);
  }
  return [...byKey.values()];
}

function ticks(from, to, width) {
  const step = STEPS.find((s) => (to - from) / s <= Math.max(2, width / 95)) || STEPS[STEPS.length - 1];
  const offset = -new Date(from).getTimezoneOffset() * 60000; // steps on the local clock
  const out = [];
  for (let t = Math.ceil((from + offset) / step) * step - offset; t <= to; t += step) out.push(t);
  return { step, ticks: out };
}

function markers(data) {
  const out = data.transitions.map((t) => ({ kind: t.kind, at: ms(t.at), title: markerTitle(t) }));
  const open = data.sessions.some((s) => !s.ended);
  if (data.emergency.status === "active" || open) out.push({ kind: "now", at: ms(data.now), title: `Now, ${timeText(ms(data.now))}` });
  return out;
}

function markerTitle(t) {
  const who = t.by ? ` by ${t.by.sub} (${t.by.agency})` : "";
  const extra = t.kind === "extend" ? ` by ${t.minutes} min, to ${timeText(ms(t.expires_at))}` : "";
  return `${MARKER_TEXT[t.kind]} at ${timeText(ms(t.at))}${extra}${who}${t.reason ? `: ${t.reason}` : ""}`;
}

// Each marker's label in the first of three rows where it does not run into another (x: its position).
function placeLabels(marks, x, width) {
  const rowEnds = [-Infinity, -Infinity, -Infinity];
  return marks.sort((p, q) => p.at - q.at).map((m) => {
    const mx = x(m.at);
    const text = `${MARKER_TEXT[m.kind]} ${timeText(m.at)}`;
    const tw = textWidth(text);
    const anchor = mx + tw / 2 > width - 4 ? "end" : mx - tw / 2 < LABEL_W ? "start" : "middle";
    const left = anchor === "end" ? mx - tw : anchor === "start" ? mx : mx - tw / 2;
    let row = rowEnds.findIndex((end) => left > end + 8);
    if (row < 0) row = rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = left + tw;
    return { ...m, mx, text, anchor, row };
  });
}

export function ganttChart(data, width, { title, description }) {
  width = Math.max(640, Math.round(width));
  const rows = lanes(data.sessions);
  const now = ms(data.now);
  const marks = markers(data);
  const spans = data.sessions.map((s) => barSpan(s, now));
  let from = Math.min(ms(data.emergency.declared_at), ...spans.map(([a]) => a));
  let to = Math.max(periodEnd(data), ...spans.map(([, b]) => b), ...marks.map((m) => m.at));
  const pad = Math.max((to - from) * 0.04, 5000);
  from -= pad;
  to += pad;
  const plotW = width - LABEL_W - RIGHT;
  const x = (t) => LABEL_W + ((t - from) / (to - from)) * plotW;
  const labels = placeLabels(marks, x, width);
  const TOP = 44 + (Math.max(0, ...labels.map((m) => m.row)) + 1) * LABEL_ROW; // labels, clock, axis line
  const height = TOP + Math.max(1, rows.length) * LANE_H + 16;
  const bottom = height - 12;
  const { step, ticks: times } = ticks(from, to, plotW);

  const root = svg("svg", { class: "gantt", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-labelledby": "tl-svg-title tl-svg-desc", "data-from": from, "data-to": to },
  svg("title", { id: "tl-svg-title" }, title), svg("desc", { id: "tl-svg-desc" }, description),
  svg("defs", {}, svg("pattern", { id: "tl-stripes", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    svg("rect", { class: "tl-stripe-bg", width: 8, height: 8 }), svg("rect", { class: "tl-stripe", width: 4, height: 8 }))));

  // The emergency's period, shaded behind the lanes.
  const p0 = x(ms(data.emergency.declared_at));
  root.append(svg("rect", { class: "tl-period", x: p0, y: TOP - 8, width: Math.max(1, x(periodEnd(data)) - p0), height: bottom - TOP + 8 }));
  // Lanes: zebra background and labels.
  rows.forEach((lane, i) => {
    const y = TOP + i * LANE_H;
    root.append(svg("g", { class: "tl-lane", "data-principal": lane.sub, "data-camera": lane.camera },
      svg("rect", { class: i % 2 ? "tl-lane-bg odd" : "tl-lane-bg", x: 0, y, width, height: LANE_H }),
      svg("text", { class: "tl-who", x: 12, y: y + 16 }, `${lane.sub} (${lane.agency})`),
      svg("text", { class: "tl-cam", x: 12, y: y + 31 }, lane.camera)));
  });
  if (!rows.length) root.append(svg("text", { class: "tl-empty", x: LABEL_W + 12, y: TOP + 24 }, "Nobody watched a camera under this emergency."));
  // Clock axis and grid.
  const axis = svg("g", { class: "tl-axis" }, svg("line", { class: "tl-axis-line", x1: LABEL_W, x2: width - RIGHT, y1: TOP - 8, y2: TOP - 8 }));
  for (const t of times) {
    axis.append(svg("line", { class: "tl-grid", x1: x(t), x2: x(t), y1: TOP - 12, y2: bottom }),
      svg("text", { class: "tl-tick", x: x(t), y: TOP - 16, "text-anchor": "middle" }, timeText(t, step < 60000)));
  }
  root.append(axis);
  // Bars.
  rows.forEach((lane, i) => {
    const y = TOP + i * LANE_H + (LANE_H - BAR_H) / 2;
    for (const s of lane.sessions) {
      const [a, b] = barSpan(s, now);
      const w = Math.max(4, x(b) - x(a));
      const open = !s.ended;
      const label = `${s.principal_sub} watched ${s.camera} (${s.action}) from ${timeText(a)} ${open ? "and is still watching" : `to ${timeText(b)}`}`
        + ` (${duration(b - a)})${open ? "" : `; ended: ${s.reason_ended}`}`;
      const g = svg("g", { class: `tl-session${open ? " tl-still-open" : ""}`, "data-session": s.session },
        svg("title", {}, label),
        svg("rect", { class: `tl-bar ${s.action === "playback" ? "tl-playback" : "tl-live"}${open ? " tl-still-open" : ""}`, x: x(a), y, width: w, height: BAR_H, rx: 4,
          "data-principal": s.principal_sub, "data-camera": s.camera, "data-start": s.started, "data-end": open ? "" : s.last || s.ended }));
      const text = open ? `${duration(b - a)} · still open` : duration(b - a);
      const [tx, anchor, where] = w > textWidth(text) + 8 ? [x(a) + 6, "start", "inside"] // in the bar, else after it, else before
        : x(a) + w + 10 + textWidth(text) < width ? [x(a) + w + (open ? 10 : 6), "start", ""] : [x(a) - 6, "end", ""];
      g.append(svg("text", { class: `tl-bar-text ${where}`, x: tx, y: y + 14, "text-anchor": anchor }, text));
      if (open) g.append(svg("path", { class: "tl-open-arrow", d: `M${x(b)},${y - 3} l7,${BAR_H / 2 + 3} l-7,${BAR_H / 2 + 3} z` }));
      root.append(g);
    }
  });
  // Markers last, on top.
  for (const m of labels) {
    root.append(svg("g", { class: `tl-marker tl-m-${m.kind}`, "data-kind": m.kind, "data-x": m.mx.toFixed(1) },
      svg("title", {}, m.title),
      svg("line", { x1: m.mx, x2: m.mx, y1: 16 + m.row * LABEL_ROW, y2: bottom }),
      svg("text", { x: m.mx, y: 12 + m.row * LABEL_ROW, "text-anchor": m.anchor }, m.text)));
  }
  return root;
}

// Active emergencies with their area, a countdown, pre-event footage, extend and end.
import { api, ApiError } from "./api.js";
import { clock, h } from "./dom.js";

function remaining(iso) {
  const s = Math.max(0, Math.round((new Date(iso) - Date.now()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// Screen readers hear once, politely, that an emergency started or ended (#announce in index.html); the
// countdown itself ticks silently (a role=timer, aria-live off: WAI-ARIA 1.2 §5.3 "timer").
let shown = null; // id -> the active emergencies last rendered

function announce(active) {
  const now = new Map(active.map((e) => [e.id, e]));
  const where = (e) => `${e.site}${e.incident ? ` (${e.incident})` : ""}`;
  if (shown !== null) {
    const words = [...[...now.values()].filter((e) => !shown.has(e.id)).map((e) => `Emergency declared at ${where(e)}, until ${clock(e.expires_at)}.`),
      ...[...shown.values()].filter((e) => !now.has(e.id)).map((e) => `Emergency at ${where(e)} is over.`)];
    if (words.length) document.getElementById("announce").textContent = words.join(" ");
  }
  shown = now;
}

const outcomes = new Map(); // emergency id -> what the last extend said (the list is drawn anew after it)

export function area(em) {
  const where = em.center ? `${em.radius_m} m around ${em.center.lat}, ${em.center.lon}` : "the whole site";
  const parts = [where];
  if (em.buildings.length) parts.push(`buildings ${em.buildings.join(", ")}`);
  if (em.zones.length) parts.push(`zones ${em.zones.join(", ")}`);
  return parts.join("; ");
}

// cameras: the page's camera list (their live decisions name the covering emergency); preEvent: a PreEvent.
export function emergencyList(emergencies, onChanged, { cameras = [], preEvent = null } = {}) {
  const active = emergencies.filter((e) => e.status === "active");
  announce(active);
  const section = h("section", { class: "emergencies", "aria-labelledby": "em-title" },
    h("h2", { id: "em-title", tabindex: "-1" }, `Active emergencies (${active.length})`));
  if (!active.length) section.append(h("p", {}, "None. Declare one below when there is an articulable threat."));
  for (const em of active) {
    const count = h("span", { class: "countdown", role: "timer", "aria-live": "off", "data-expires": em.expires_at }, remaining(em.expires_at));
    const msg = h("p", { class: "form-result", role: "status", "aria-live": "polite" }, outcomes.get(em.id) || "");
    const minutes = h("input", { type: "number", min: "1", value: "15", id: `ext-min-${em.id}`, name: "minutes" });
    const why = h("input", { id: `ext-why-${em.id}`, name: "reason", required: true, placeholder: "suspect still inside" });
    const endWhy = h("input", { id: `end-why-${em.id}`, name: "reason", required: true, placeholder: "suspect in custody" });
    const act = (path, body, done) => async (e) => {
      e.preventDefault();
      try {
        const after = await api(`/api/v1/emergencies/${encodeURIComponent(em.id)}/${path}`, { method: "POST", body });
        msg.textContent = done(after);
        outcomes.set(em.id, msg.textContent);
        onChanged();
      } catch (err) {
        msg.textContent = err instanceof ApiError ? `${err.message}. ${err.advice()}` : String(err);
      }
    };
    const extend = h("form", { class: "inline", "aria-label": `Extend ${em.id}` },
      h("label", { for: minutes.id }, "Minutes"), minutes, h("label", { for: why.id }, "Reason"), why,
      h("button", { type: "submit" }, "Extend"));
    extend.addEventListener("submit", (e) => act("extend", { minutes: Number(minutes.value), reason: why.value.trim() },
      (after) => `Extended by ${minutes.value} min: now ends at ${clock(after.expires_at)}.`)(e));
    const end = h("form", { class: "inline", "aria-label": `End ${em.id}` },
      h("label", { for: endWhy.id }, "Reason"), endWhy, h("button", { type: "submit", class: "danger" }, "End emergency"));
    end.addEventListener("submit", (e) => act("end", { reason: endWhy.value.trim() }, () => "Ended.")(e));
    section.append(h("article", { class: "emergency", "data-emergency": em.id },
      h("h3", {}, `${em.site} · ${em.incident || em.id}`),
      h("p", {}, `Declared ${clock(em.declared_at)} by ${em.declared_by.sub}; ends in `, count,
        ` (at `, h("time", { class: "expires", datetime: em.expires_at }, clock(em.expires_at)), ")."),
      h("p", { class: "em-area" }, "Area: ", area(em)),
      h("p", { class: "threat" }, em.threat || ""), preEvent ? preEvent.control(em, cameras) : null, extend, end, msg));
  }
  return section;
}

export function tickCountdowns() {
  for (const el of document.querySelectorAll(".countdown")) el.textContent = remaining(el.dataset.expires);
}

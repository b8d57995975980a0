// Active emergencies with a countdown, extend and end.
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

export function emergencyList(emergencies, onChanged) {
  const active = emergencies.filter((e) => e.status === "active");
  announce(active);
  const section = h("section", { class: "emergencies", "aria-labelledby": "em-title" },
    h("h2", { id: "em-title", tabindex: "-1" }, `Active emergencies (${active.length})`));
  if (!active.length) section.append(h("p", {}, "None. Declare one below when there is an articulable threat."));
  for (const em of active) {
    const count = h("span", { class: "countdown", role: "timer", "aria-live": "off", "data-expires": em.expires_at }, remaining(em.expires_at));
    const msg = h("p", { class: "form-result", role: "alert" }); // errors only: success re-renders the list
    const minutes = h("input", { type: "number", min: "1", value: "15", id: `ext-min-${em.id}`, name: "minutes" });
    const why = h("input", { id: `ext-why-${em.id}`, name: "reason", required: true, placeholder: "suspect still inside" });
    const endWhy = h("input", { id: `end-why-${em.id}`, name: "reason", required: true, placeholder: "suspect in custody" });
    const act = (path, body, done) => async (e) => {
      e.preventDefault();
      try {
        await api(`/api/v1/emergencies/${encodeURIComponent(em.id)}/${path}`, { method: "POST", body });
        msg.textContent = done;
        onChanged();
      } catch (err) {
        msg.textContent = err instanceof ApiError ? `${err.message}. ${err.advice()}` : String(err);
      }
    };
    const extend = h("form", { class: "inline", "aria-label": `Extend ${em.id}` },
      h("label", { for: minutes.id }, "Minutes"), minutes, h("label", { for: why.id }, "Reason"), why,
      h("button", { type: "submit" }, "Extend"));
    extend.addEventListener("submit", (e) => act("extend", { minutes: Number(minutes.value), reason: why.value.trim() }, "Extended.")(e));
    const end = h("form", { class: "inline", "aria-label": `End ${em.id}` },
      h("label", { for: endWhy.id }, "Reason"), endWhy, h("button", { type: "submit", class: "danger" }, "End emergency"));
    end.addEventListener("submit", (e) => act("end", { reason: endWhy.value.trim() }, "Ended.")(e));
    section.append(h("article", { class: "emergency", "data-emergency": em.id },
      h("h3", {}, `${em.site} · ${em.incident || em.id}`),
      h("p", {}, `Declared ${clock(em.declared_at)} by ${em.declared_by.sub}; ends in `, count, ` (at ${clock(em.expires_at)}).`),
      h("p", { class: "threat" }, em.threat || ""), extend, end, msg));
  }
  return section;
}

export function tickCountdowns() {
  for (const el of document.querySelectorAll(".countdown")) el.textContent = remaining(el.dataset.expires);
}

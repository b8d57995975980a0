// School IT: the active emergencies at my agency's sites and who is watching which camera under each right now
// (GET /api/v1/emergencies?active=true and …/{id}/viewers; FERPA 34 CFR 99.32: the district keeps the record of
// each disclosure of its education records). Viewing events from the event stream keep it current.
import { api } from "./api.js";
import { clock, h } from "./dom.js";
import { area } from "./emergencies.js";

// The active emergencies at `sites` (ids), each with its viewers: [{ emergency, viewers }].
export async function watching(sites) {
  const { emergencies } = await api("/api/v1/emergencies?active=true");
  const mine = emergencies.filter((e) => e.status === "active" && sites.has(e.site));
  return Promise.all(mine.map(async (em) => {
    const { viewers } = await api(`/api/v1/emergencies/${encodeURIComponent(em.id)}/viewers`);
    return { emergency: em, viewers };
  }));
}

let heard = null; // session ids last shown, to announce who started or stopped watching

function announce(list, cameraName) {
  const now = new Map(list.flatMap(({ emergency, viewers }) => viewers.map((v) => [v.session, { v, emergency }])));
  if (heard !== null) {
    const words = [...now.values()].filter(({ v }) => !heard.has(v.session))
      .map(({ v, emergency }) => `${v.sub} (${v.agency}) is watching ${cameraName(v.camera)} under ${emergency.incident || emergency.id}.`);
    if (words.length) document.getElementById("announce").textContent = words.join(" ");
  }
  heard = new Set(now.keys());
}

function viewerTable(em, viewers, cameraName) {
  if (!viewers.length) return h("p", { class: "no-viewers" }, "No one is watching under it now.");
  return h("div", { class: "table-wrap", role: "region", "aria-label": `Watching under ${em.incident || em.id}`, tabindex: "0" },
    h("table", { class: "viewers" }, h("caption", {}, `Watching now: ${viewers.length}`),
      h("thead", {}, h("tr", {}, ["Who", "Camera", "What", "Under", "Since"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, viewers.map((v) => h("tr", { "data-session": v.session, "data-watching": v.camera },
        h("th", { scope: "row" }, `${v.sub} `, h("span", { class: "muted" }, `${v.agency}, ${v.roles.join(", ")}`)),
        h("td", {}, cameraName(v.camera)), h("td", {}, v.action),
        h("td", {}, v.clause ? `clause ${v.clause}` : v.grant || "—"),
        h("td", {}, h("time", { datetime: v.started }, clock(v.started))))))));
}

// cameraName(id): "Front office hallway (saxe-int-01)"; siteName(id): "Saxe Middle School".
export function watchingSection(list, { cameraName, siteName }) {
  announce(list, cameraName);
  return h("section", { class: "panel emergencies-here", "aria-labelledby": "watch-title" },
    h("h2", { id: "watch-title", tabindex: "-1" }, `Emergencies at my sites (${list.length})`),
    list.length ? list.map(({ emergency: em, viewers }) => h("article", { class: "emergency", "data-emergency": em.id },
      h("h3", {}, `${siteName(em.site)} · ${em.incident || em.id}`),
      h("p", {}, `Declared ${clock(em.declared_at)} by ${em.declared_by.sub} (${em.declared_by.agency}) under ${em.mou}; `,
        "until ", h("time", { datetime: em.expires_at }, clock(em.expires_at)), `. Area: ${area(em)}.`),
      em.threat ? h("p", { class: "threat" }, `Threat: ${em.threat}`) : null,
      viewerTable(em, viewers, cameraName)))
      : h("p", {}, "No active emergency at your sites. When one is declared, it appears here with everyone watching under it."));
}

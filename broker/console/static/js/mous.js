// School IT: the MOUs in force (GET /api/v1/mous?in_force=true) with each grant in plain words and its clause,
// the never-shared zones, the education-record zones (FERPA) and who declares and ends an emergency.
import { h } from "./dom.js";

export function mouArticle(m) {
  const parties = `Between ${m.owner.name} (cameras' owner) and ${m.recipients.map((r) => r.name).join(", ")}.`;
  return h("article", { class: "mou", "data-mou": m.mou, "aria-labelledby": `mou-${m.mou}` },
    h("h3", { id: `mou-${m.mou}` }, m.title || m.mou, h("span", { class: "mou-id" }, ` ${m.mou}, version ${m.version}`)),
    h("p", {}, m.period, " ", parties),
    h("ul", { class: "grants", "aria-label": `Grants of ${m.mou}` },
      m.grants.map((g) => h("li", { "data-grant": g.id }, g.text))),
    m.never ? h("p", { class: "never" }, m.never) : null,
    m.records ? h("p", {}, m.records) : null,
    m.emergency ? h("p", {}, m.emergency) : null);
}

export function mouSection(mous) {
  return h("section", { class: "panel", "aria-labelledby": "mous-title" },
    h("h2", { id: "mous-title" }, `MOUs in force (${mous.length})`),
    mous.length ? mous.map(mouArticle)
      : h("p", {}, "No MOU of your agency is in force now: no partner agency sees any of your cameras."));
}

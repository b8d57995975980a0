// The one-screen "Declare emergency" form: POST /api/v1/emergencies.
import { api, ApiError } from "./api.js";
import { h } from "./dom.js";

function field(label, input, hint) {
  const id = input.id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null);
}

const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);

export function declareForm(cameras, onDeclared) {
  const sites = [...new Set(cameras.map((c) => c.site))].sort();
  const site = h("select", { id: "em-site", name: "site", required: true }, sites.map((s) => h("option", { value: s }, s)));
  const mou = h("input", { id: "em-mou", name: "mou", required: true, value: "ncps-ncpd-video", autocomplete: "off" });
  const scope = h("select", { id: "em-scope", name: "scope" },
    h("option", { value: "site" }, "Whole site"), h("option", { value: "point" }, "Point and radius"));
  const lat = h("input", { id: "em-lat", name: "lat", type: "number", step: "any", inputmode: "decimal" });
  const lon = h("input", { id: "em-lon", name: "lon", type: "number", step: "any", inputmode: "decimal" });
  const radius = h("input", { id: "em-radius", name: "radius", type: "number", step: "any", min: "0.1", value: "9.1" });
  const point = h("fieldset", { class: "point", hidden: true }, h("legend", {}, "Point (the threat's location)"),
    field("Latitude", lat), field("Longitude", lon), field("Radius (metres)", radius, "9.1 m is 30 feet"));
  scope.addEventListener("change", () => { point.hidden = scope.value !== "point"; });
  const buildings = h("input", { id: "em-buildings", name: "buildings", placeholder: "main, gym", autocomplete: "off" });
  const zones = h("input", { id: "em-zones", name: "zones", placeholder: "interior", autocomplete: "off" });
  const threat = h("textarea", { id: "em-threat", name: "threat", required: true, rows: 3, "aria-describedby": "em-threat-hint" });
  const incident = h("input", { id: "em-incident", name: "incident", autocomplete: "off" });
  const duration = h("input", { id: "em-duration", name: "duration", type: "number", min: "1", value: "30" });
  const result = h("p", { class: "form-result", role: "status", "aria-live": "assertive" });
  const form = h("form", { class: "declare", "aria-labelledby": "declare-title" },
    h("h2", { id: "declare-title" }, "Declare emergency"),
    h("div", { class: "grid" },
      field("MOU", mou), field("Site", site), field("Area", scope)),
    point,
    h("div", { class: "grid" },
      field("Buildings (optional)", buildings, "Comma separated; empty: every building"),
      field("Zones (optional)", zones, "Comma separated; empty: every zone"),
      field("Incident number", incident), field("Duration (minutes)", duration)),
    field("Threat", threat, "The articulable and significant threat to health or safety (FERPA 34 CFR 99.36): what is happening, where, who reported it. It is recorded and shown to the school."),
    h("button", { type: "submit", class: "danger" }, "Declare emergency"), result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { mou: mou.value.trim(), site: site.value, threat: threat.value.trim() };
    if (buildings.value.trim()) body.buildings = list(buildings.value);
    if (zones.value.trim()) body.zones = list(zones.value);
    if (incident.value.trim()) body.incident = incident.value.trim();
    if (duration.value) body.duration_minutes = Number.parseInt(duration.value, 10);
    if (scope.value === "point") {
      body.center = { lat: Number(lat.value), lon: Number(lon.value) };
      body.radius_m = Number(radius.value || 9.1);
    }
    result.textContent = "Declaring…";
    try {
      const em = await api("/api/v1/emergencies", { method: "POST", body });
      result.textContent = `Declared ${em.id} at ${em.site} until ${new Date(em.expires_at).toLocaleTimeString()}.`;
      onDeclared(em);
    } catch (err) {
      result.textContent = err instanceof ApiError ? `Not declared: ${err.message}. ${err.advice()}` : String(err);
      if (err.body && err.body.field) form.querySelector(`[name="${CSS.escape(err.body.field.split(".")[0])}"]`)?.focus();
    }
  });
  return form;
}

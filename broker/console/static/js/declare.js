// The one-screen "Declare emergency" form: POST /api/v1/emergencies.
import { api, ApiError } from "./api.js";
import { h } from "./dom.js";
import { round6 } from "./geo.js";

function field(label, input, hint) {
  const id = input.id;
  if (hint && !input.hasAttribute("aria-describedby")) input.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null);
}

const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);

// onPoint(point | null) hears every change of the centre or radius (the map draws it); pick(point) is the map's
// click: it switches the area to "point and radius" and fills the centre (the inputs stay editable: keyboard).
export function declareForm(cameras, onDeclared, { onPoint = () => {} } = {}) {
  const sites = [...new Set(cameras.map((c) => c.site))].sort();
  const site = h("select", { id: "em-site", name: "site", required: true }, sites.map((s) => h("option", { value: s }, s)));
  const chosen = sessionStorage.getItem("camgate.site"); // the site the dispatch page shows
  if (chosen && sites.includes(chosen)) site.value = chosen;
  const mou = h("input", { id: "em-mou", name: "mou", required: true, value: "ncps-ncpd-video", autocomplete: "off" });
  const scope = h("select", { id: "em-scope", name: "scope" },
    h("option", { value: "site" }, "Whole site"), h("option", { value: "point" }, "Point and radius"));
  const num = (id, name, extra) => h("input", { id, name, type: "number", step: "any", inputmode: "decimal", ...extra });
  const lat = num("em-lat", "center.lat", { min: "-90", max: "90" });
  const lon = num("em-lon", "center.lon", { min: "-180", max: "180" });
  // Contract §3: center and radius_m go together; 9.1 m is 30 feet, the panic buttons' default too.
  const radius = num("em-radius", "radius_m", { min: "0.1", value: "9.1" });
  const picked = h("p", { class: "hint", role: "status", "aria-live": "polite" });
  const point = h("fieldset", { class: "point", hidden: true }, h("legend", {}, "Point (the threat's location)"),
    h("p", { class: "hint" }, "Click the map to place the centre, or type its latitude and longitude."),
    h("div", { class: "grid" }, field("Latitude", lat), field("Longitude", lon), field("Radius (metres)", radius, "9.1 m is 30 feet")),
    picked);
  const current = () => {
    const [la, lo, r] = [lat.value, lon.value, radius.value].map((v) => (v.trim() === "" ? NaN : Number(v)));
    return scope.value === "point" && Number.isFinite(la) && Number.isFinite(lo) && r > 0 ? { lat: la, lon: lo, radius_m: r } : null;
  };
  const changed = () => {
    point.hidden = scope.value !== "point";
    lat.required = lon.required = radius.required = scope.value === "point";
    onPoint(current());
  };
  for (const el of [scope, lat, lon, radius]) el.addEventListener("input", changed);
  scope.addEventListener("change", changed);
  const buildings = h("input", { id: "em-buildings", name: "buildings", placeholder: "main, gym", autocomplete: "off" });
  const zones = h("input", { id: "em-zones", name: "zones", placeholder: "interior", autocomplete: "off" });
  const threat = h("textarea", { id: "em-threat", name: "threat", required: true, rows: 3, "aria-describedby": "em-threat-hint" });
  const incident = h("input", { id: "em-incident", name: "incident", autocomplete: "off" });
  const duration = h("input", { id: "em-duration", name: "duration_minutes", type: "number", min: "1", value: "30" });
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
      const p = current();
      if (!p) {
        result.textContent = "Not declared: the point needs a latitude, a longitude and a radius. Click the map or type them.";
        (lat.value ? (lon.value ? radius : lon) : lat).focus();
        return;
      }
      body.center = { lat: p.lat, lon: p.lon };
      body.radius_m = p.radius_m;
    }
    result.textContent = "Declaring…";
    try {
      const em = await api("/api/v1/emergencies", { method: "POST", body });
      const where = em.center ? `${em.radius_m} m around ${em.center.lat}, ${em.center.lon} at ${em.site}` : em.site;
      result.textContent = `Declared ${em.id}: ${where}, until ${new Date(em.expires_at).toLocaleTimeString()}.`;
      if (em.center) { // the map now draws it as declared
        scope.value = "site";
        lat.value = lon.value = picked.textContent = "";
        changed();
      }
      onDeclared(em);
    } catch (err) {
      result.textContent = err instanceof ApiError ? `Not declared: ${err.message}. ${err.advice()}` : String(err);
      const f = err.body && err.body.field;
      if (f) (form.querySelector(`[name="${CSS.escape(f)}"]`) || form.querySelector(`[name="${CSS.escape(f.split(".")[0])}"]`))?.focus();
    }
  });
  const pick = ({ lat: la, lon: lo, site: s }) => {
    scope.value = "point";
    lat.value = String(round6(la));
    lon.value = String(round6(lo));
    if (s && sites.includes(s)) site.value = s;
    changed();
    picked.textContent = `Centre set to ${lat.value}, ${lon.value} at ${site.value}; radius ${radius.value} m.`;
  };
  return { el: form, pick, point: current };
}

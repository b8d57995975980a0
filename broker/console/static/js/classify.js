// School IT classifies an unclassified camera (PUT /api/v1/cameras/{id}/classification): site and building by name,
// a zone the site's MOUs define, an optional location. Errors are shown at their field; the keyboard alone works
// (native controls, a submit button, the focus moved to the field at fault). What was chosen survives the page's
// refreshes (every 30 s, on every emergency event) until it is saved.
import { api, ApiError } from "./api.js";
import { h } from "./dom.js";

const drafts = new Map(); // camera id -> { site, building, zone, lat, lon } chosen so far

const FIELDS = ["site", "building", "zone", "lat", "lon"];

function fieldOf(apiField) {
  if (!apiField) return null;
  if (apiField.startsWith("location.")) return apiField.slice("location.".length);
  if (apiField === "location") return "lat";
  return FIELDS.includes(apiField) ? apiField : null;
}

function announce(message) {
  const el = document.getElementById("announce");
  if (el) el.textContent = message;
}

// One form for one camera; ``sites``: GET /api/v1/inventory/unclassified's choices; ``onSaved`` refreshes the page.
export function classifyForm(camera, sites, onSaved) {
  const id = (f) => `classify-${camera.id}-${f}`;
  const draft = drafts.get(camera.id) || {
    site: sites.some((s) => s.id === camera.site) ? camera.site : sites[0]?.id || "",
    building: camera.building || "", zone: camera.zone || "", lat: "", lon: "",
  };
  drafts.set(camera.id, draft);
  const errors = Object.fromEntries(FIELDS.map((f) => [f, h("p", { id: id(`${f}-error`), class: "field-error", hidden: true })]));
  const formError = h("div", { id: id("error"), class: "field-error", role: "alert", hidden: true });
  const site = h("select", { id: id("site"), name: "site", "aria-describedby": id("site-error") });
  const building = h("select", { id: id("building"), name: "building", "aria-describedby": id("building-error") });
  const zone = h("select", { id: id("zone"), name: "zone", required: true, "aria-describedby": id("zone-error") });
  const coord = (f) => h("input", { id: id(f), name: f, type: "text", inputmode: "decimal", autocomplete: "off",
    size: 11, value: draft[f], "aria-describedby": id(`${f}-error`) });
  const lat = coord("lat");
  const lon = coord("lon");
  const controls = { site, building, zone, lat, lon };
  const button = h("button", { type: "submit" }, "Classify");

  site.replaceChildren(...sites.map((s) => h("option", { value: s.id }, s.name)));
  site.value = draft.site;
  function choices() {
    const here = sites.find((s) => s.id === site.value) || { buildings: [], zones: [] };
    building.replaceChildren(h("option", { value: "" }, "No building"),
      ...here.buildings.map((b) => h("option", { value: b }, b)));
    building.value = here.buildings.includes(draft.building) ? draft.building : "";
    const zones = here.zones.map((z) => h("option", { value: z.id }, z.never ? `${z.id} (never shared)` : z.id));
    zone.replaceChildren(h("option", { value: "" }, zones.length ? "Choose a zone" : "No MOU covers this site"), ...zones);
    zone.value = here.zones.some((z) => z.id === draft.zone) ? draft.zone : "";
  }
  choices();

  function clear() {
    for (const f of FIELDS) { errors[f].hidden = true; errors[f].textContent = ""; controls[f].removeAttribute("aria-invalid"); }
    formError.hidden = true;
    formError.replaceChildren();
  }
  function fail(f, message) {
    errors[f].textContent = message;
    errors[f].hidden = false;
    controls[f].setAttribute("aria-invalid", "true");
    controls[f].focus();
  }
  const remember = () => Object.assign(draft, { site: site.value, building: building.value, zone: zone.value, lat: lat.value, lon: lon.value });
  site.addEventListener("change", () => { remember(); choices(); remember(); });
  for (const el of [building, zone, lat, lon]) el.addEventListener("change", remember);
  for (const el of [lat, lon]) el.addEventListener("input", remember);

  async function submit(event) {
    event.preventDefault();
    clear();
    remember();
    if (!zone.value) return fail("zone", "Choose the zone this camera is in.");
    const hasLat = lat.value.trim() !== "";
    const hasLon = lon.value.trim() !== "";
    if (hasLat !== hasLon) return fail(hasLat ? "lon" : "lat", "Give both latitude and longitude, or neither.");
    const location = hasLat ? { lat: Number(lat.value), lon: Number(lon.value) } : null;
    if (location && Number.isNaN(location.lat)) return fail("lat", "Latitude is a number of degrees, e.g. 41.1488.");
    if (location && Number.isNaN(location.lon)) return fail("lon", "Longitude is a number of degrees, e.g. -73.4957.");
    const body = { site: site.value, building: building.value || null, zone: zone.value, location };
    button.disabled = true;
    try {
      const done = await api(`/api/v1/cameras/${encodeURIComponent(camera.id)}/classification`, { method: "PUT", body });
      drafts.delete(camera.id);
      announce(`${camera.name} (${camera.id}) is classified: zone ${done.after.zone} at ${site.selectedOptions[0]?.textContent || done.after.site}.`);
      await onSaved(camera.id);
    } catch (err) {
      button.disabled = false;
      const f = err instanceof ApiError ? fieldOf(err.body.field) : null;
      const said = err instanceof ApiError ? (err.body.errors || []).find((e) => e.field === err.body.field) : null;
      if (f) return fail(f, said ? `${said.message}.` : err.message);
      formError.replaceChildren(h("p", {}, err instanceof ApiError ? `${err.message} ${err.advice()}` : String(err)),
        ...(err instanceof ApiError && err.body.lines ? [h("ul", {}, err.body.lines.map((l) => h("li", {}, l)))] : []));
      formError.hidden = false;
      button.focus();
    }
  }

  const field = (f, label, control) => h("div", { class: "field" }, h("label", { for: id(f) }, label), control, errors[f]);
  return h("form", { class: "classify", "data-classify": camera.id, "aria-label": `Classify ${camera.name} (${camera.id})`, onsubmit: submit, novalidate: true },
    field("site", "Site", site), field("building", "Building", building), field("zone", "Zone", zone),
    h("fieldset", { class: "location" }, h("legend", {}, "Location (optional)"),
      h("label", { for: id("lat") }, "Latitude"), lat, errors.lat, h("label", { for: id("lon") }, "Longitude"), lon, errors.lon),
    button, formError);
}

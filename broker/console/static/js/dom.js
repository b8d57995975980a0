// Tiny DOM helpers: build elements without innerHTML (nothing from the API is ever parsed as HTML).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

export function showBanner(message) {
  const el = document.getElementById("banner");
  el.textContent = message;
  el.hidden = !message;
}

// Replace a box's content without throwing a keyboard user out (WCAG 2.4.3, 3.2.2): an event-driven refresh
// keeps what was typed into fields with an id and the focus (by id, camera, else form and label), or puts the focus
// on the box's first heading when the focused control is gone (the emergency it belonged to ended).
export function rerender(box, node) {
  const key = (el) => el.id || (el.dataset.camera && `camera ${el.dataset.camera}`)
    || `${el.closest("form")?.getAttribute("aria-label")}|${el.textContent}`;
  const had = box.contains(document.activeElement) ? key(document.activeElement) : null;
  const typed = [...box.querySelectorAll("input[id], textarea[id]")].map((el) => [el.id, el.value]);
  box.replaceChildren(node);
  for (const [id, value] of typed) {
    const el = box.querySelector(`#${CSS.escape(id)}`);
    if (el) el.value = value;
  }
  if (had === null) return;
  const again = [...box.querySelectorAll("input, textarea, select, button, a[href], [tabindex]")].find((el) => key(el) === had);
  (again || box.querySelector("h2, h3"))?.focus();
}

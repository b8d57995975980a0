// Which cameras the camera wall shows, in which order (issue 13, item 23). The cameras an active emergency opened
// come first: the broker's decision names the emergency whose grant allows the camera (`live.emergency` in
// GET /api/v1/cameras; contract §4 step 5, set only when the allowing grant is `when: emergency`), so the page
// applies no rule of its own. The newest emergency's cameras lead; then every other allowed camera, in the API's
// order. The cap counts after sorting: an emergency's cameras push others off the wall, never the reverse.

export const WALL_MAX = 6;

export function openedByEmergency(cam) {
  return Boolean(cam.live.allowed && cam.live.emergency);
}

// The allowed cameras in wall order, and how many of them are not shown: { shown, more }.
export function wallCameras(cameras, emergencies, max = WALL_MAX) {
  const declared = new Map(emergencies.map((e) => [e.id, Date.parse(e.declared_at)]));
  // An emergency not (yet) in the page's list is taken as the newest: never behind another's cameras.
  const since = (c) => declared.get(c.live.emergency) ?? Number.MAX_SAFE_INTEGER;
  const group = (c) => (openedByEmergency(c) ? 0 : 1);
  const allowed = cameras.filter((c) => c.live.allowed); // Array.prototype.sort is stable: API order within ties
  allowed.sort((a, b) => group(a) - group(b) || (group(a) === 0 ? since(b) - since(a) : 0));
  return { shown: allowed.slice(0, max), more: Math.max(0, allowed.length - max) };
}

// Put `els` (children of `box`) first, in this order, moving only those out of place. moveBefore (where the
// browser has it) keeps a playing <video> and the focus; else the focus is put back (WCAG 2.4.3).
export function arrange(box, els) {
  const focus = document.activeElement;
  let at = box.firstElementChild;
  for (const el of els) {
    if (el.parentNode !== box) continue;
    if (el === at) {
      at = at.nextElementSibling;
      continue;
    }
    if (typeof box.moveBefore === "function") box.moveBefore(el, at);
    else box.insertBefore(el, at);
  }
  if (focus && focus.isConnected && document.activeElement !== focus && box.contains(focus)) focus.focus();
}

// Pre-event footage: the 30 s recorded before an emergency's declaration, played (hls.js VOD) in a player
// labelled as recorded, beside the camera's live one. The broker decides the window (contract §4: an emergency
// grant's playback.from, relative to declared_at; MOU ncps-ncpd-video clause 4.2 allows -30s) and every segment
// again, so ending the emergency stops it too. A refusal is explained with what to do next.
import Hls from "../vendor/hls.mjs";
import { api, ApiError, authHeaders } from "./api.js";
import { h } from "./dom.js";
import { reasonText } from "./player.js";

export const PRE_EVENT_SECONDS = 30;
const LABEL = `Play the ${PRE_EVENT_SECONDS} s before the declaration`;

// An RFC 3339 instant moved by whole seconds, its fractional digits kept exactly: declared_at carries
// microseconds, and a start one microsecond early would be outside the MOU's window.
export function shiftIso(iso, seconds) {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) throw new Error(`not an RFC 3339 instant: ${iso}`);
  const moved = new Date(new Date(`${m[1]}${m[3]}`).getTime() + seconds * 1000);
  return moved.toISOString().replace(/\.\d{3}Z$/, `${m[2] || ""}Z`);
}

const hms = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

export function explain(err) {
  if (!(err instanceof ApiError)) return `The recording could not be played (${err}). Close it and try again.`;
  const b = err.body;
  const records = "Ask the school district for this footage through the MOU's records request; live video is unaffected.";
  if (err.status === 403 && b.reason === "outside_playback_window") {
    return `Not allowed: MOU ${b.mou} (grant ${b.grant}, clause ${b.clause}) allows no footage from before the declaration. ${records}`;
  }
  if (err.status === 403 && b.reason === "no_emergency") {
    return `Not allowed: the emergency is no longer active, and pre-event footage is shown only while it is. ${records}`;
  }
  if (err.status === 403 && b.reason) return `Not allowed: ${reasonText(b)}. ${err.advice()}`;
  if (err.status === 404 && b.error === "no_recording") {
    return `The camera system holds no recording of these ${PRE_EVENT_SECONDS} s (the school's cameras were not recording then). Ask the school's IT whether the system kept a copy.`;
  }
  if (err.status === 501) return "This camera's system keeps no recording the broker can read. Ask the school's IT for an export.";
  if (err.status === 502 || err.status === 504) {
    return `The camera system did not give the recording (${b.message || err.status}). Try again in a moment; if it persists, call the school's IT.`;
  }
  return `${err.message}. ${err.advice()}`;
}

export class RecordedPlayer {
  constructor(camera, em) {
    this.camera = camera;
    this.emergency = em.id;
    this.until = em.declared_at;
    this.from = shiftIso(em.declared_at, -PRE_EVENT_SECONDS);
    this.url = `${camera.urls.playback}?start=${encodeURIComponent(this.from)}&end=${encodeURIComponent(this.until)}`;
    const window = `${hms(this.from)}–${hms(this.until)}`;
    this.video = h("video", { muted: true, autoplay: true, playsinline: true, controls: true, "data-recorded-camera": camera.id,
      "aria-label": `Recorded video: ${camera.name}, ${window}, the ${PRE_EVENT_SECONDS} seconds before the declaration` });
    this.video.muted = true;
    this.status = h("p", { class: "status", role: "status", "aria-live": "polite" }, "Loading the recording…");
    const close = h("button", { type: "button", onclick: () => this.close() }, "Close recording");
    this.el = h("figure", { class: "recorded", "data-camera": camera.id, "data-emergency": em.id },
      h("p", { class: "badge" }, "Recorded"), this.video,
      h("figcaption", {}, h("strong", {}, camera.name), ` · ${camera.id} · `,
        h("time", { datetime: this.from, title: `${this.from} to ${this.until}` }, window),
        `, the ${PRE_EVENT_SECONDS} s before the declaration`), this.status, close);
    this.hls = null;
    this.stopped = false;
  }

  start() {
    if (!Hls.isSupported()) {
      this.status.textContent = "This browser cannot play HLS video: use a current Chromium, Firefox or Edge.";
      return this;
    }
    const hls = new Hls({
      enableWorker: false,
      xhrSetup: (xhr) => { for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v); },
    });
    this.hls = hls;
    hls.on(Hls.Events.LEVEL_LOADED, (_e, { details }) => {
      const first = details.fragments.length ? details.fragments[0].programDateTime : null;
      const secs = Math.round(details.totalduration);
      this.status.textContent = first && first - Date.parse(this.from) > 2000
        ? `Recorded · the recording begins at ${hms(first)}: ${secs} s of the ${PRE_EVENT_SECONDS} s exist.`
        : `Recorded · ${secs} s.`;
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.video.play().catch(() => { this.status.textContent = "Press play to start the recording (the browser blocked autoplay)."; });
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      const code = data.response && data.response.code;
      if (code >= 400 || data.fatal) this.fail(data.details);
    });
    this.video.addEventListener("ended", () => {
      if (!this.stopped) this.status.textContent = "Played to the end of the recording. Use the player's controls to watch it again.";
    });
    hls.loadSource(this.url);
    hls.attachMedia(this.video);
    return this;
  }

  // hls.js reports only the status: ask the broker once more for the reason (a JSON error body).
  async fail(details) {
    if (this.stopped) return;
    this.stop("Checking why the recording stopped…");
    try {
      await api(this.url);
      this.status.textContent = `The recording stopped (${details}): close it and press "${LABEL}" again.`;
    } catch (err) {
      this.status.textContent = explain(err);
    }
  }

  close() { // keyboard focus goes back to a button that opens it again
    this.stop();
    this.el.remove();
    document.querySelector(`button.pre-event[data-camera="${CSS.escape(this.camera.id)}"]`)?.focus();
  }

  stop(message) {
    this.stopped = true;
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
    this.video.load();
    this.video.controls = false;
    this.el.classList.add("stopped");
    if (message) this.status.textContent = message;
  }
}

// The recorded players of one page: one per camera and emergency, placed right after the camera's live player.
export class PreEvent {
  constructor(wall) {
    this.wall = wall;
    this.players = new Map();
  }

  play(camera, em) {
    const key = `${camera.id} ${em.id}`;
    const have = this.players.get(key);
    if (have && !have.stopped && have.el.isConnected) return have;
    const rec = new RecordedPlayer(camera, em);
    const live = this.wall.querySelector(`figure.player[data-camera="${CSS.escape(camera.id)}"]`);
    if (have && have.el.isConnected) have.el.replaceWith(rec.el);
    else if (live) live.after(rec.el);
    else this.wall.append(rec.el);
    this.players.set(key, rec);
    rec.start(); // in the document first: the media element must be attached before hls.js opens its source
    return rec;
  }

  // Stop the players of emergencies no longer active; why(rec) says why (it may ask the broker).
  async sync(activeIds, why) {
    for (const rec of this.players.values()) {
      if (!rec.stopped && !activeIds.has(rec.emergency)) {
        rec.stop("Stopping…");
        rec.status.textContent = await why(rec);
      }
    }
  }

  stopAll() {
    for (const rec of this.players.values()) { rec.stop(); rec.el.remove(); }
    this.players.clear();
  }

  button(camera, em, text = LABEL) {
    return h("button", { type: "button", class: "pre-event", "data-camera": camera.id, "data-emergency": em.id,
      "aria-label": `${LABEL}: ${camera.name} (${camera.id})`, onclick: () => this.play(camera, em) }, text);
  }

  // For an emergency: its covered cameras you may see, each with the button.
  control(em, cameras) {
    const covered = cameras.filter((c) => c.live.allowed && c.live.emergency === em.id);
    if (!covered.length) return h("p", { class: "hint" }, "Pre-event footage: no camera you may see is covered by it.");
    return h("div", { class: "inline pre-event-list" }, h("span", {}, `Pre-event footage (${PRE_EVENT_SECONDS} s before ${hms(em.declared_at)}):`),
      covered.map((c) => this.button(c, em, `${LABEL}: ${c.name}`)));
  }
}

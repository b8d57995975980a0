// One live player: hls.js on a <video>, the playlist fetched with the viewer's credentials (segment URLs are
// signed by the broker). A refusal (403) stops it at once and hands the reason to the page.
import Hls from "../vendor/hls.mjs";
import { authHeaders } from "./api.js";
import { h } from "./dom.js";

// Every denial code of the decision point (broker/policy/types.py REASON_CODES), whatever the camera's zone.
const REASONS = {
  unknown_camera: "no such camera",
  no_mou: "no MOU between your agency and this camera's owner",
  never_shared_zone: "a zone the MOU never shares",
  outside_playback_window: "outside the MOU's playback window",
  not_on_roster: "you are not named on the MOU's roster",
  no_emergency: "only during a declared emergency that covers it",
  outside_schedule: "outside the MOU's schedule",
  no_matching_grant: "no MOU grant covers this camera for your agency and role",
  unclassified_camera: "not yet classified by school IT",
  mou_not_in_effect: "the MOU is not in effect today",
};

export function reasonText(decision) {
  const words = REASONS[decision.reason] || decision.reason.replaceAll("_", " ");
  return decision.clause ? `${words} (MOU ${decision.mou}, clause ${decision.clause})` : words;
}

export class Player {
  constructor(camera, onRefused) {
    this.camera = camera;
    this.onRefused = onRefused;
    this.video = h("video", { muted: true, autoplay: true, playsinline: true, "data-camera": camera.id,
      "aria-label": `Live video: ${camera.name}` });
    this.video.muted = true;
    this.status = h("p", { class: "status", role: "status", "aria-live": "polite" }, "Connecting…");
    this.el = h("figure", { class: "player", "data-camera": camera.id },
      this.video, h("figcaption", {}, h("strong", {}, camera.name), ` · ${camera.id}`), this.status);
    this.hls = null;
    this.stopped = false;
  }

  start() {
    if (!Hls.isSupported()) {
      this.status.textContent = "This browser cannot play HLS video: use a current Chromium, Firefox or Edge.";
      return this;
    }
    const hls = new Hls({
      enableWorker: false, lowLatencyMode: false, liveSyncDurationCount: 2,
      xhrSetup: (xhr) => {
        xhr.withCredentials = false; // same origin: the cookie goes anyway
        for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
      },
    });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.status.textContent = "Live";
      this.video.play().catch(() => {
        this.status.textContent = "Press play to start the video (the browser blocked autoplay).";
        this.video.controls = true;
      });
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      const code = data.response && data.response.code;
      if (code === 403 || code === 401) this.refuse(code);
      else if (data.fatal) {
        this.stop(`Video stopped (${data.details}): check the camera's network, then press Retry.`);
      }
    });
    hls.loadSource(this.camera.urls.live);
    hls.attachMedia(this.video);
    return this;
  }

  refuse(code) {
    if (this.stopped) return;
    this.stop(code === 401 ? "Your sign-in has ended: sign in again." : "Access ended.");
    this.onRefused(this);
  }

  stop(message) {
    this.stopped = true;
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
    this.video.load();
    this.el.classList.add("stopped");
    if (message) this.status.textContent = message;
  }
}

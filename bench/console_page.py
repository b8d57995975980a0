"""The browser half of ``bench/console.py``: Debian's Chromium (Playwright, never a downloaded browser), a
persona signed in on ``/dev/signin``, the moment each camera player appears and plays recorded by the page
itself, and the dispatch page's weight from the DevTools protocol (``Network.loadingFinished``).
"""

from __future__ import annotations

import gzip
import os
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("CAMGATE_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
SITE = "ncps-saxe"

#: Runs in the page before its own scripts: every ``<video data-camera>`` added to the document gets a record
#: {camera, appeared, playing, advancing} in wall-clock milliseconds (Date.now(), the clock Python's time.time()
#: reads): ``playing`` at the first animation frame where its currentTime > 0 (hls.js has buffered a segment and
#: put the element at its start position), ``advancing`` at the first where currentTime has grown past that
#: (the picture moves). The page is in front: frames are not throttled, each figure is within one frame (16.7 ms).
RECORDER = """
window.__players = [];
const watch = (video) => {
  const rec = { camera: video.dataset.camera, appeared: Date.now(), playing: null, advancing: null };
  window.__players.push(rec);
  let first = 0;
  const tick = () => {
    if (!video.isConnected) return;
    if (!first && video.currentTime > 0) { first = video.currentTime; rec.playing = Date.now(); }
    if (first && video.currentTime > first) { rec.advancing = Date.now(); return; }
    requestAnimationFrame(tick);
  };
  tick();
};
new MutationObserver((changes) => {
  for (const change of changes) for (const node of change.addedNodes) {
    if (node.nodeType !== 1) continue;
    if (node.matches("video[data-camera]")) watch(node);
    for (const v of node.querySelectorAll("video[data-camera]")) watch(v);
  }
}).observe(document, { childList: true, subtree: true });
"""


def launch(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        raise SystemExit(
            f"{CHROMIUM}: Debian's chromium is not installed: run `make browser` (or apt-get install chromium)"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def signed_in(browser: Any, url: str, persona: str, *, record: bool = False) -> Any:
    """A browser context of its own, signed in as ``persona`` with one click on the persona page; its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(f"sessionStorage.setItem('camgate.site', '{SITE}');")
    if record:
        context.add_init_script(RECORDER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/dev/signin")
    page.click(f"button[value='{persona}']")
    page.wait_for_url(f"{url}/console/**")
    page.wait_for_selector("#nav a[aria-current=page]")
    return page


def wait_playing(page: Any, camera: str, since_ms: float, timeout_ms: float = 30_000) -> dict[str, float]:
    """The record of the first ``camera`` player that appeared at or after ``since_ms`` and played (advancing)."""
    found = page.wait_for_function(
        """([camera, since]) => window.__players.find(
             (r) => r.camera === camera && r.appeared >= since && r.advancing !== null) || false""",
        arg=[camera, since_ms], timeout=timeout_ms, polling=20,
    )  # fmt: skip
    return dict(found.json_value())


def wait_stopped(page: Any, camera: str, timeout_ms: float = 30_000) -> None:
    """Until the camera's player is shown stopped ("Access ended: …")."""
    page.wait_for_function(
        """(camera) => { const f = document.querySelector(`figure.player[data-camera='${camera}']`);
             return f !== null && f.classList.contains('stopped')
               && f.querySelector('.status').textContent.startsWith('Access ended'); }""",
        arg=camera, timeout=timeout_ms, polling=20,
    )  # fmt: skip


# -- page weight ---------------------------------------------------------------------------------------------


@dataclass
class Resource:
    url: str
    kind: str
    status: int = 0
    encoding: str = ""
    transferred: int = 0  # Network.loadingFinished encodedDataLength: bytes on the wire, headers included
    body: int = 0  # decoded body bytes (sum of Network.dataReceived dataLength)
    gzipped: int = 0  # the body through gzip -6: what compression would send


@dataclass
class Weight:
    resources: list[Resource] = field(default_factory=list)

    def kinds(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {}
        for r in self.resources:
            out.setdefault(r.kind, []).append(r)
        return out


def kind(url: str, cdp_type: str) -> str | None:
    """The resource's row in the report; None for video (playlists, segments) and the open event stream."""
    path = url.split("?", 1)[0]
    if path.endswith((".m3u8", ".ts")) or "/hls/" in path or cdp_type in ("EventSource", "Media"):
        return None
    if path.endswith("/vendor/hls.mjs"):
        return "hls.js (vendored)"
    return {"Document": "HTML", "Script": "JS (console)", "Stylesheet": "CSS"}.get(
        cdp_type, "API (JSON)" if "/api/" in path else cdp_type
    )


def page_weight(browser: Any, url: str, persona: str, camera: str, *, cold: bool) -> Weight:
    """Open the persona's dispatch page (cold: cache disabled; else revalidating the cache the sign-in filled) until
    ``camera`` plays, and what it transferred, video and the event stream excluded."""
    page = signed_in(browser, url, persona, record=True)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": cold})
    seen: dict[str, Resource] = {}
    done: list[str] = []

    def response(e: dict[str, Any]) -> None:
        r = e["response"]
        k = kind(r["url"], e.get("type", ""))
        if k is not None:
            headers = {h.lower(): v for h, v in r.get("headers", {}).items()}
            seen[e["requestId"]] = Resource(r["url"], k, r["status"], headers.get("content-encoding", ""))

    def data(e: dict[str, Any]) -> None:
        if e["requestId"] in seen:
            seen[e["requestId"]].body += e["dataLength"]

    def finished(e: dict[str, Any]) -> None:
        if e["requestId"] in seen:
            seen[e["requestId"]].transferred = int(e["encodedDataLength"])
            done.append(e["requestId"])

    cdp.on("Network.responseReceived", response)
    cdp.on("Network.dataReceived", data)
    cdp.on("Network.loadingFinished", finished)
    page.goto("about:blank")
    page.goto(f"{url}/console/#dispatch")  # a fresh visit (the sign-in's landing filled the cache)
    wait_playing(page, camera, 0)
    page.wait_for_timeout(500)  # the page's last API answers
    weight = Weight([seen[i] for i in done])
    for rid, res in zip(done, weight.resources, strict=True):
        if res.body:
            got = cdp.send("Network.getResponseBody", {"requestId": rid})
            raw = b64decode(got["body"]) if got["base64Encoded"] else got["body"].encode()
            res.gzipped = len(gzip.compress(raw, 6))
    page.context.close()
    return weight

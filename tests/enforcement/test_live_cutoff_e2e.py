"""End to end with real parts: a real broker over HTTP, the simulated VMS encoding live H.264, and ffmpeg
as the viewer. During an emergency ffmpeg reads an interior camera through the broker; ending the emergency
cuts it off at its next request, and the audit chain tells the whole story. Likewise a reload that removes
the camera a viewer is watching cuts that viewer off."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from broker.demo.video import ffmpeg_exe
from tests.enforcement.district import running_district, token
from tests.waiting import wait_for

pytestmark = pytest.mark.video
THREAT = "Caller reports an armed intruder in the front office."


@pytest.fixture
def district(tmp_path: Path):
    with running_district(tmp_path) as (url, services, _vms):
        yield url, services


def test_ffmpeg_reads_interior_during_emergency_and_is_cut_off_when_it_ends(district, tmp_path):
    url, services = district
    officer, dispatcher = token(services, "officer-kim", ["officer"]), token(services, "dispatch-lee", ["dispatcher"])
    live = f"{url}/api/v1/cameras/saxe-int-01/live.m3u8?access_token={officer}"
    ffmpeg = [ffmpeg_exe(), "-hide_banner", "-loglevel", "warning", "-rw_timeout", "5000000"]

    # Before any emergency: refused, ffmpeg gets nothing.
    before = subprocess.run([*ffmpeg, "-i", live, "-t", "2", "-f", "null", "-"], capture_output=True, timeout=30)
    assert before.returncode != 0 and b"403" in before.stderr

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {dispatcher}"}, timeout=30) as api:
        r = api.post("/api/v1/emergencies", json={"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT,
                                                   "incident": "NC-26-01433", "duration_minutes": 30})  # fmt: skip
        assert r.status_code == 201, r.text
        emergency = r.json()["id"]

        out = tmp_path / "viewer.ts"
        viewer = subprocess.Popen([*ffmpeg, "-i", live, "-c", "copy", "-f", "mpegts", str(out)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        try:
            wait_for(lambda: out.exists() and out.stat().st_size > 150_000, 40, "ffmpeg to receive interior video")
            playlist = httpx.get(live, timeout=10).text
            segment = next(line for line in playlist.splitlines() if line.startswith("/api/"))

            assert api.post(f"/api/v1/emergencies/{emergency}/end").status_code == 200
            # The segment URL fetched during the emergency is still within its token life, but is refused now.
            cut = httpx.get(url + segment, timeout=10)
            assert cut.status_code == 403 and cut.json()["reason"] == "no_emergency"
            viewer.wait(timeout=30)  # ffmpeg's next playlist reload is refused and it stops
        finally:
            viewer.kill()
            stderr = viewer.stderr.read().decode(errors="replace") if viewer.stderr else ""
        assert "403" in stderr
        probe = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out)], capture_output=True, text=True)
        assert "Video: h264" in probe.stderr

    audit = services.audit
    assert audit.verify().ok
    records, _ = audit.query(camera="saxe-int-01", limit=1000)
    kinds = [(r.kind, r.reason) for r in records]
    assert ("decision", "no_emergency") in kinds[:1]  # the refusal before the emergency
    allowed = [r for r in records if r.kind == "decision" and r.allowed]
    assert allowed and all(r.emergency == emergency and r.grant == "G2" and r.clause == "4.2" for r in allowed)
    ended = [r for r in records if r.kind == "session.end"]
    assert ended and ended[0].reason.startswith("access_revoked") and ended[0].details["bytes"] > 150_000
    denials_after = [r for r in records if r.kind == "decision" and not r.allowed and r.ts > allowed[-1].ts]
    assert denials_after and {r.reason for r in denials_after} == {"no_emergency"}
    (end,) = audit.query(emergency=emergency, kind="emergency.end")[0]
    assert end.principal_sub == "dispatch-lee"


def test_ffmpeg_viewer_of_a_camera_that_a_reload_removes_is_cut(district, tmp_path):
    url, services = district
    officer, operator = token(services, "officer-kim", ["officer"]), token(services, "it-ana", ["operator"], "ncps")
    live = f"{url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token={officer}"
    ffmpeg = [ffmpeg_exe(), "-hide_banner", "-loglevel", "warning", "-rw_timeout", "5000000"]
    out = tmp_path / "viewer.ts"
    viewer = subprocess.Popen([*ffmpeg, "-i", live, "-c", "copy", "-f", "mpegts", str(out)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(lambda: out.exists() and out.stat().st_size > 100_000, 40, "ffmpeg to receive exterior video")
        # School IT moves the camera out of the inventory (it was replaced) and reloads.
        inventory = tmp_path / "inventory.yaml"
        inv = yaml.safe_load(inventory.read_text())
        inv["cameras"] = [c for c in inv["cameras"] if c["id"] != "saxe-ext-01"]
        inventory.write_text(yaml.safe_dump(inv))
        r = httpx.post(f"{url}/api/v1/admin/reload", headers={"Authorization": f"Bearer {operator}"}, timeout=30)
        assert r.status_code == 200, r.text
        viewer.wait(timeout=30)  # its next playlist or segment request is refused and it stops
    finally:
        viewer.kill()
        stderr = viewer.stderr.read().decode(errors="replace") if viewer.stderr else ""
    assert "404" in stderr
    records, _ = services.audit.query(camera="saxe-ext-01", limit=1000)
    ended = [r for r in records if r.kind == "session.end"]
    assert ended and ended[0].reason == "access_revoked:unknown_camera" and ended[0].details["bytes"] > 100_000
    assert services.audit.verify().ok

"""Termination cuts an open viewer (issue 14, "Done means"): ffmpeg reads an exterior camera live through a real
broker that keeps its MOUs in the store; the police chief terminates the MOU; ffmpeg's requests are refused and
its stream ends within two seconds, and the audit chain says why."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.api.services import Services
from broker.demo.video import ffmpeg_exe
from broker.documents import mou_files
from tests.enforcement.district import running_district, token
from tests.waiting import wait_for

pytestmark = pytest.mark.video
BOUND_SECONDS = 2.0  # the requirement
PARTIES = {"ncps": {"editors": ["operator"], "approvers": ["operator"]}, "ncpd": {"approvers": ["chief"]}}


@pytest.fixture
def district(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    with running_district(tmp_path, mous={"source": "store", "parties": PARTIES}) as (url, services, _vms):
        assert services.mous is not None
        files = mou_files([tmp_path / "mou"])
        services.mous.import_texts([(str(p), p.read_bytes()) for p in files], {"principal_sub": "test"})
        services.reloader.reload("test")
        yield url, services


def test_terminating_the_mou_cuts_an_open_ffmpeg_viewer_within_two_seconds(
    district: tuple[str, Services], tmp_path: Path
) -> None:
    url, services = district
    officer, chief = token(services, "officer-kim", ["officer"]), token(services, "chief-dunn", ["chief"])
    live = f"{url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token={officer}"
    out = tmp_path / "viewer.ts"
    ffmpeg = [ffmpeg_exe(), "-hide_banner", "-loglevel", "warning", "-rw_timeout", "5000000"]
    viewer = subprocess.Popen(
        [*ffmpeg, "-i", live, "-c", "copy", "-f", "mpegts", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: out.exists() and out.stat().st_size > 100_000, 40, "ffmpeg to receive exterior video")
        segment = next(line for line in httpx.get(live, timeout=10).text.splitlines() if line.startswith("/api/"))
        started = time.monotonic()
        r = httpx.post(
            f"{url}/api/v1/mous/ncps-ncpd-video/terminate",
            headers={"Authorization": f"Bearer {chief}"},
            json={"reason": "The board ended the agreement tonight."},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        refused = httpx.get(url + segment, timeout=10)  # fetched while allowed, within its token's life
        assert refused.status_code in (403, 404), refused.text
        viewer.wait(timeout=30)
        ended = time.monotonic() - started
    finally:
        viewer.kill()
        stderr = viewer.stderr.read().decode(errors="replace") if viewer.stderr else ""
    print(f"\nffmpeg's stream ended {ended * 1000:.0f} ms after the termination was asked for")
    assert ended < BOUND_SECONDS, stderr
    assert "403" in stderr or "404" in stderr
    records, _ = services.audit.query(camera="saxe-ext-01", limit=1000)
    (end,) = [r for r in records if r.kind == "session.end"]
    assert end.reason.startswith("access_revoked:") and end.details["bytes"] > 100_000
    (terminated,) = services.audit.query(kind="mou.terminate")[0]
    assert terminated.ts <= end.ts and terminated.principal_sub == "chief-dunn"
    assert services.audit.verify().ok

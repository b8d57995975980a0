"""The simulated school-district VMS: real live H.264 HLS over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from broker.clock import FakeClock
from broker.demo.video import ffmpeg_exe, live_hls_cmd
from broker.demo.vms import SimulatedVms, cameras_from_inventory, playlist_segments
from tests.paths import EXAMPLE_INVENTORY

TIMEOUT = 20.0


def probe(path_or_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """ffmpeg's own description of a file or URL (stream info goes to stderr)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *extra, "-i", path_or_url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def encoders_for(vms: SimulatedVms, ref: str) -> list[int]:
    """Live ffmpeg processes writing into this camera's directory (read from /proc, not from the VMS)."""
    needle = str(vms.work_dir / ref / "index.m3u8").encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline.split(b"\0") and alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def raw_get(base_url: str, raw_path: str) -> int:
    """GET a path exactly as written (no client-side normalisation of ``..`` or percent-escapes)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_until(pred, timeout: float = 5.0) -> bool:  # real processes, not clock-driven logic
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# ---------------------------------------------------------------------------------------------- no video


def test_cameras_from_inventory(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        """
sites:
  - {id: s1, name: Saxe Middle School}
  - {id: s2, name: Parking Bureau}
cameras:
  - {id: saxe-ext-01, name: Main entrance, site: s1, system: vms, ref: saxe-ext-01}
  - {id: pb-body-01, name: Body camera 1, site: s2, system: bodycams, ref: body-01}
  - {id: saxe-new-01, name: New camera, site: s1, system: vms}
""",
        encoding="utf-8",
    )
    assert cameras_from_inventory(inv, "vms") == {
        "saxe-ext-01": "Saxe Middle School · Main entrance",
        "saxe-new-01": "Saxe Middle School · New camera",
    }
    assert cameras_from_inventory(inv, "bodycams") == {"body-01": "Parking Bureau · Body camera 1"}
    assert cameras_from_inventory(inv, "nope") == {}


def test_new_canaan_inventory() -> None:
    schools = cameras_from_inventory(EXAMPLE_INVENTORY, "ncps-vms")
    bodycams = cameras_from_inventory(EXAMPLE_INVENTORY, "ncpb-bodycams")
    assert len(schools) + len(bodycams) == 17
    assert schools["saxe-ext-01"] == "Saxe Middle School · Main entrance"
    assert bodycams["body-01"] == "Parking Bureau · Parking officer body camera 1"


def test_live_encoder_command_is_light_live_hls(tmp_path: Path) -> None:
    cmd = live_hls_cmd(tmp_path, label="A · B", segment_seconds=1.0, list_size=6, rate=15)
    joined = " ".join(cmd)
    for needle in ("-re", "testsrc2=size=640x360:rate=15", "ultrafast", "zerolatency", "yuv420p"):
        assert needle in joined
    assert cmd[cmd.index("-g") + 1] == "15" and cmd[cmd.index("-sc_threshold") + 1] == "0"
    assert (
        cmd[cmd.index("-hls_flags") + 1]
        == "delete_segments+omit_endlist+temp_file+independent_segments+program_date_time"
    )
    assert cmd[-1] == str(tmp_path / "index.m3u8")
    assert "localtime" in cmd[cmd.index("-vf") + 1]


def test_unsafe_refs_rejected(tmp_path: Path) -> None:
    for bad in ("..", "../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            SimulatedVms({bad: "x"}, work_dir=tmp_path, clock=FakeClock())


def test_cli_help() -> None:
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run(
        [sys.executable, "-m", "broker.demo.vms", "--help"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "--inventory" in res.stdout and "--system" in res.stdout


# ---------------------------------------------------------------------------------------------- video


@pytest.mark.video
def test_live_playlist_and_h264_segments(shared_vms: tuple[SimulatedVms, str], tmp_path: Path) -> None:
    vms, url = shared_vms
    started = time.monotonic()
    r = httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT)
    first_playlist_s = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert "no-cache" in r.headers["cache-control"]
    text = r.text
    assert text.startswith("#EXTM3U")
    assert "#EXTINF:" in text and "#EXT-X-TARGETDURATION:" in text
    assert "#EXT-X-ENDLIST" not in text  # live
    segments = playlist_segments(text)
    assert len(segments) >= 2
    assert all("/" not in s for s in segments)  # relative to the playlist
    assert first_playlist_s < 15

    seg = httpx.get(f"{url}cam-a/{segments[-1]}", timeout=TIMEOUT)
    assert seg.status_code == 200
    assert seg.headers["content-type"] == "video/mp2t"
    assert seg.content[0] == 0x47 and seg.content[188] == 0x47  # MPEG-TS sync bytes
    local = tmp_path / "seg.ts"
    local.write_bytes(seg.content)
    info = probe(str(local)).stderr
    assert "mpegts" in info and "Video: h264" in info, info
    assert vms.running() == ["cam-a"]


@pytest.mark.video
def test_ffmpeg_plays_live_playlist_url(shared_vms: tuple[SimulatedVms, str]) -> None:
    _, url = shared_vms
    play = ["-i", f"{url}cam-a/index.m3u8", "-t", "2", "-f", "null", "-"]
    res = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *play],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Video: h264" in res.stderr


@pytest.mark.video
def test_snapshot_is_a_real_jpeg(shared_vms: tuple[SimulatedVms, str], tmp_path: Path) -> None:
    vms, url = shared_vms
    r = httpx.get(f"{url}cam-b/snapshot.jpg", timeout=TIMEOUT)  # cam-b not started yet: starts it
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    jpg = tmp_path / "snap.jpg"
    jpg.write_bytes(r.content)
    info = probe(str(jpg)).stderr
    assert "Video: mjpeg" in info and "640x360" in info, info
    assert "cam-b" in vms.running()


@pytest.mark.video
def test_healthz(shared_vms: tuple[SimulatedVms, str]) -> None:
    _, url = shared_vms
    r = httpx.get(f"{url}healthz", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["cameras"] == 2


@pytest.mark.video
def test_unknown_ref_is_404(shared_vms: tuple[SimulatedVms, str]) -> None:
    _, url = shared_vms
    for path in ("nope/index.m3u8", "nope/snapshot.jpg", "nope/seg_1.ts"):
        assert httpx.get(url + path, timeout=TIMEOUT).status_code == 404, path


@pytest.mark.video
def test_path_tricks_never_reach_files(shared_vms: tuple[SimulatedVms, str]) -> None:
    vms, url = shared_vms
    text = httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT).text
    real = playlist_segments(text)[-1]
    assert raw_get(url, f"/cam-a/{real}") == 200  # the control: the real thing works
    assert (vms.work_dir / "cam-a.ffmpeg.log").is_file()  # something worth stealing exists
    tricks = [
        "/cam-a/../cam-a.ffmpeg.log",
        "/cam-a/../../../../etc/passwd",
        "/../etc/passwd",
        "/cam-a/%2e%2e/cam-a.ffmpeg.log",
        "/cam-a/%2e%2e%2fcam-a.ffmpeg.log",
        "/%2e%2e/cam-a/index.m3u8",
        "/cam-a/..%2f..%2fetc%2fpasswd",
        f"/cam-a/{real}/../index.m3u8",
        "/cam-a/seg.ts/../x",
        f"/cam-a/{real}.tmp",
        "/cam-a/index.m3u8.tmp",
        "/cam-a/..ts",
        "/cam-a/.ts",
        f"/cam-a/{real.upper()}",
        "/cam-a/seg%00.ts",
        "/cam-a/seg%20x.ts",
        "/cam-a/x.log",
        "/cam-a/index.m3u",
        "/cam-a/snapshot.png",
        "/cam-a.ffmpeg.log",
        "/cam-a/%5c..%5ccam-a.ffmpeg.log",
    ]
    for path in tricks:
        status = raw_get(url, path)
        assert status in (400, 404), (path, status)


@pytest.mark.video
def test_one_encoder_under_concurrent_first_requests(make_vms) -> None:
    vms, url = make_vms()
    with httpx.Client(timeout=TIMEOUT) as client, ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: client.get(f"{url}cam-a/index.m3u8"), range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert all(r.text.startswith("#EXTM3U") for r in responses)
    assert vms.start_count("cam-a") == 1
    assert encoders_for(vms, "cam-a") == [vms.encoder_pid("cam-a")]
    assert vms.running() == ["cam-a"]  # cam-b was never asked for


@pytest.mark.video
def test_idle_reaper_stops_and_later_request_restarts(make_vms) -> None:
    clock = FakeClock()
    vms, url = make_vms(clock=clock, idle_seconds=30)
    assert httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT).status_code == 200
    pid = vms.encoder_pid("cam-a")
    assert pid is not None and alive(pid)

    clock.advance(20)
    assert vms.reap() == []
    seg = playlist_segments(httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT).text)[-1]
    clock.advance(20)  # 20 s since the last request
    assert httpx.get(f"{url}cam-a/{seg}", timeout=TIMEOUT).status_code == 200  # segments count as use
    clock.advance(29)
    assert vms.reap() == []
    assert vms.encoder_pid("cam-a") == pid

    clock.advance(2)  # 31 s idle
    assert vms.reap() == ["cam-a"]
    assert not alive(pid)
    assert vms.encoder_pid("cam-a") is None and vms.running() == []
    assert not (vms.work_dir / "cam-a").exists()  # files deleted
    assert encoders_for(vms, "cam-a") == []

    r = httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT)
    assert r.status_code == 200 and len(playlist_segments(r.text)) >= 2
    new_pid = vms.encoder_pid("cam-a")
    assert new_pid is not None and new_pid != pid
    assert vms.start_count("cam-a") == 2


@pytest.mark.video
def test_background_reaper_uses_the_clock(make_vms) -> None:
    clock = FakeClock()
    vms, url = make_vms(clock=clock, idle_seconds=30, reap_interval=0.05)
    assert httpx.get(f"{url}cam-b/snapshot.jpg", timeout=TIMEOUT).status_code == 200
    pid = vms.encoder_pid("cam-b")
    assert pid is not None
    time.sleep(0.3)  # several reaper passes on real time: nothing happens while the clock stands still
    assert vms.encoder_pid("cam-b") == pid
    clock.advance(31)
    assert wait_until(lambda: not alive(pid))
    assert vms.running() == []


@pytest.mark.video
def test_crashed_encoder_is_restarted_on_next_request(make_vms) -> None:
    vms, url = make_vms()
    assert httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT).status_code == 200
    pid = vms.encoder_pid("cam-a")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: vms.encoder_pid("cam-a") is None)

    r = httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT)
    assert r.status_code == 200 and "#EXTINF:" in r.text
    new_pid = vms.encoder_pid("cam-a")
    assert new_pid is not None and new_pid != pid and alive(new_pid)
    assert vms.start_count("cam-a") == 2
    assert (vms.work_dir / "cam-a.ffmpeg.log").read_text().count("--- start") == 2

    vms.stop()  # shutdown stops every encoder
    assert not alive(new_pid)
    assert encoders_for(vms, "cam-a") == []

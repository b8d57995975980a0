"""The simulated VMS's rolling recording: segments of the live encoders kept with their program date-time and
served as a sliding recording playlist; watching one camera of a group records the whole group."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from broker.clock import FakeClock
from broker.demo.recorder import Recorder, live_segments
from broker.demo.video import ffmpeg_exe
from tests.waiting import wait_for

T0 = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)
TIMEOUT = 20.0


def live_playlist(first: int, count: int, start: datetime = T0) -> str:
    """What ffmpeg writes with program_date_time: one date per segment, +0000 offsets."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    for n in range(first, first + count):
        stamp = (start + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{stamp}", "#EXTINF:1.000000,", f"seg_{n}.ts"]
    return "\n".join(lines) + "\n"


def write_live(live: Path, first: int, count: int, start: datetime = T0) -> None:
    live.mkdir(parents=True, exist_ok=True)
    for n in range(first, first + count):
        (live / f"seg_{n}.ts").write_bytes(b"\x47" * 188)
    (live / "index.m3u8").write_text(live_playlist(first, count, start))


def test_recorder_links_new_segments_and_serves_a_sliding_playlist(tmp_path: Path) -> None:
    now = [(T0 + timedelta(seconds=6)).timestamp()]
    rec = Recorder(tmp_path / "rec", retention_seconds=5, wall=lambda: now[0])
    live = tmp_path / "live"
    write_live(live, 0, 4)
    assert rec.collect("cam", live, "index.m3u8") == 4
    write_live(live, 2, 4)  # the encoder moved on: 2 and 3 again, 4 and 5 new
    assert rec.collect("cam", live, "index.m3u8") == 2
    (live / "seg_1.ts").unlink()  # deleted by the encoder: the recording keeps its own link
    assert (rec.file("cam", "seg_1.ts") or Path("/")).read_bytes() == b"\x47" * 188
    text = rec.playlist("cam").decode()  # type: ignore[union-attr]
    assert text.count("#EXT-X-PROGRAM-DATE-TIME:") == 6 and "#EXT-X-PLAYLIST-TYPE" not in text
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-11-30T08:00:05.000Z\n#EXTINF:1.000000,\nrec/seg_5.ts" in text
    # an encoder restart leaves a gap: a discontinuity
    write_live(live, 9, 1)
    assert rec.collect("cam", live, "index.m3u8") == 1
    assert rec.segments("cam")[-1].discontinuity and "#EXT-X-DISCONTINUITY\n" in rec.playlist("cam").decode()  # type: ignore[union-attr]
    # retention on the wall clock: what ended over 5 s ago goes, files too
    now[0] = (T0 + timedelta(seconds=12)).timestamp()
    assert rec.prune() == 6
    assert [s.name for s in rec.segments("cam")] == ["seg_9.ts"]
    assert not (tmp_path / "rec" / "cam" / "seg_0.ts").exists() and rec.file("cam", "seg_0.ts") is None
    head = rec.playlist("cam").decode()  # type: ignore[union-attr]
    assert "#EXT-X-MEDIA-SEQUENCE:6\n" in head and "#EXT-X-DISCONTINUITY-SEQUENCE:0\n" in head
    assert rec.file("cam", "../live/seg_9.ts") is None and rec.playlist("other") is None


def test_live_segments_skips_undated_and_malformed_entries() -> None:
    text = "#EXTM3U\n#EXTINF:1,\nnodate.ts\n#EXT-X-PROGRAM-DATE-TIME:bad\n#EXTINF:1,\nbad.ts\n" + live_playlist(0, 1)
    assert live_segments(text) == [("seg_0.ts", T0, 1.0)]


@pytest.mark.video
def test_watching_one_camera_records_its_group(make_vms, tmp_path: Path) -> None:
    clock = FakeClock()
    vms, url = make_vms(clock=clock, idle_seconds=30, segment_seconds=1.0, size="320x180", rate=10,
                        groups={"cam-a": ["cam-a", "cam-b"], "cam-b": ["cam-a", "cam-b"]}, hold_seconds=60)  # fmt: skip
    assert httpx.get(f"{url}cam-b/recording.m3u8", timeout=TIMEOUT).status_code == 404  # nothing recorded yet
    assert httpx.get(f"{url}cam-a/index.m3u8", timeout=TIMEOUT).status_code == 200  # watch cam-a only
    assert sorted(vms.held()) == ["cam-a", "cam-b"]
    wait_for(lambda: len(vms.recorder.segments("cam-b")) >= 3, 30, "cam-b to be recorded")
    r = httpx.get(f"{url}cam-b/recording.m3u8", timeout=TIMEOUT)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    uris = [line for line in r.text.splitlines() if line and not line.startswith("#")]
    assert r.text.count("#EXT-X-PROGRAM-DATE-TIME:") == len(uris) >= 3 and all(u.startswith("rec/") for u in uris)
    seg = httpx.get(f"{url}cam-b/{uris[0]}", timeout=TIMEOUT)
    assert seg.status_code == 200 and seg.headers["content-type"] == "video/mp2t"
    (tmp_path / "rec.ts").write_bytes(seg.content)
    info = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(tmp_path / "rec.ts")], capture_output=True, text=True
    )
    assert "Video: h264" in info.stderr
    # held cameras outlive the idle timeout; once the hold runs out they are reaped, the recording stays
    clock.advance(31)
    assert vms.reap() == []
    clock.advance(30)
    assert sorted(vms.reap()) == ["cam-a", "cam-b"]
    assert httpx.get(f"{url}cam-b/recording.m3u8", timeout=TIMEOUT).status_code == 200
    assert httpx.get(f"{url}cam-b/{uris[0]}", timeout=TIMEOUT).status_code == 200
    assert httpx.get(f"{url}cam-b/rec/..%2F..%2Fsecret.ts", timeout=TIMEOUT).status_code == 404

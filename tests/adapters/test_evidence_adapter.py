"""The evidence adapter on a real folder with real clips: footage placed in time, segments served safely, bad
files skipped with a reason, new clips taken at the watcher's next tick (an injected timer, never a sleep)."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.evidence import EvidenceAdapter
from adapters.evidence.repackage import bundled_ffmpeg
from broker.adapterapi import (
    AdapterError,
    CameraSystemAdapter,
    Discoverable,
    NotSupported,
    ProblemReport,
    Recording,
    ReportsProblems,
)
from tests.adapters.evidence_support import START, Ticks, counting_ffmpeg, evidence_adapter, run, runs
from tests.fakes.evidence import EvidenceFolder, make_test_clip

pytestmark = pytest.mark.video
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def source_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_clip(tmp_path_factory.mktemp("evidence-clip"))  # 6 s, a key frame every second


@pytest.fixture
def folder(tmp_path: Path, source_clip: Path) -> EvidenceFolder:
    return EvidenceFolder(tmp_path / "exports", source_clip)


def decoded_frames(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "segment.ts"
    path.write_bytes(data)
    out = subprocess.run([bundled_ffmpeg(), "-hide_banner", "-i", str(path), "-map", "0:v", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0 and "Video: h264" in out.stderr, out.stderr[-1000:]
    return int([x for x in out.stderr.splitlines() if "frame=" in x][-1].split("frame=")[1].split()[0])


def test_a_clip_is_recorded_footage_of_its_device_placed_from_its_start(folder: EvidenceFolder, tmp_path: Path) -> None:
    folder.drop("2026/09/14/stop-1", "pb-body-03", START, positions=[(START + timedelta(seconds=3), 41.1468, -73.4946)],
                age=60)  # fmt: skip
    adapter = evidence_adapter(folder.path)
    assert isinstance(adapter, CameraSystemAdapter) and isinstance(adapter, Discoverable)

    async def use(a: EvidenceAdapter) -> tuple[Recording, Recording, bytes]:
        everything = await a.recording("pb-body-03", START - HOUR, START + HOUR)
        window = await a.recording("pb-body-03", START + timedelta(seconds=1), START + timedelta(seconds=5))
        segment = await a.resource(window.segments[0].ref)
        assert segment.content_type == "video/mp2t" and segment.ref == window.segments[0].ref
        assert [(p.lat, p.lon) for p in a.positions("pb-body-03", START, START + HOUR)] == [(41.1468, -73.4946)]
        assert a.positions("pb-body-03", START + timedelta(seconds=4), START + HOUR) == ()
        return everything, window, segment.body

    everything, window, body = run(adapter, use)
    assert [s.start for s in everything.segments] == [START + timedelta(seconds=s) for s in (0, 2, 4)]
    assert [s.duration for s in everything.segments] == [2.0, 2.0, 2.0] and everything.target_duration == 2
    assert [s.discontinuity for s in everything.segments] == [True, False, False]  # a new clip, a new timeline
    assert [s.start for s in window.segments] == [START + timedelta(seconds=2), START + timedelta(seconds=4)]
    assert body[0] == 0x47 and decoded_frames(body, tmp_path) == 20  # 2 s at 10 fps, really decodable
    assert adapter.health()["problems"] == {}
    assert sorted(p.name for p in folder.path.rglob("*")) == [
        "09",
        "14",
        "2026",
        "stop-1.json",
        "stop-1.mp4",
    ]  # untouched


def test_segments_are_served_by_their_own_refs_only(folder: EvidenceFolder) -> None:
    folder.drop("stop-1", "pb-body-03", START, age=60)
    adapter = evidence_adapter(folder.path)
    adapter.poll()
    (clip,) = adapter.index.clips.values()
    hostile = ["../../etc/passwd", f"{clip.id}-00000.ts/../x", f"{clip.id}-00003.ts", f"{clip.id.upper()}-00000.ts",
               f"{'0' * 16}-00000.ts", f"{clip.id}-0.ts", f"{clip.id}/seg00000.ts", "", "index.m3u8"]  # fmt: skip

    async def use(a: EvidenceAdapter) -> list[AdapterError]:
        errors = []
        for ref in hostile:
            with pytest.raises(AdapterError) as info:
                await a.resource(ref)
            errors.append(info.value)
        segment = clip.directory / "seg00001.ts"  # swapped for a link out of the cache: never followed
        segment.unlink()
        segment.symlink_to(folder.clip)
        with pytest.raises(AdapterError) as info:
            await a.resource(f"{clip.id}-00001.ts")
        return [*errors, info.value]

    errors = run(adapter, use)
    assert all(e.status == 404 for e in errors) and "is not a segment of a clip" in str(errors[0])
    assert "segment" in str(errors[-1])


def test_no_live_video_no_snapshot_no_playlists(folder: EvidenceFolder) -> None:
    folder.drop("stop-1", "pb-body-03", START, age=60)

    async def use(a: EvidenceAdapter) -> None:
        with pytest.raises(NotSupported, match="no live video"):
            await a.live_playlist("pb-body-03")
        with pytest.raises(NotSupported, match="footage is served by playback"):
            await a.snapshot("pb-body-03")
        with pytest.raises(AdapterError, match="serves no playlists"):
            a.resolve("", "seg.ts")
        with pytest.raises(AdapterError) as info:
            await a.recording("pb-body-99", START - HOUR, START + HOUR)
        assert info.value.status == 404  # the broker answers no_recording

    run(evidence_adapter(folder.path), use)


def test_bad_files_are_skipped_each_with_its_reason_and_the_rest_plays(folder: EvidenceFolder, tmp_path: Path) -> None:
    folder.drop("good", "pb-body-03", START, age=60)
    folder.drop("bad-metadata", "pb-body-04", START, metadata='{"device": "pb-body-04"}', age=60)
    folder.drop("not-video", "pb-body-05", START, clip_bytes=b"\x00" * 4096, age=60)
    folder.drop("playlist-posing-as-video", "pb-body-06", START, age=60,
                clip_bytes=b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")  # fmt: skip
    folder.drop("huge", "pb-body-07", START, clip_bytes=b"\x00" * 3_000_000, age=60)
    (folder.path / "linked.mp4").symlink_to(folder.clip)
    (folder.path / "linked.json").write_text('{"device": "pb-body-08", "start": "2026-09-14T12:58:00Z"}')
    (folder.path / "no-sidecar.mp4").write_bytes(folder.clip.read_bytes())
    (folder.path / ".copying-in.mp4").write_bytes(b"partial")  # hidden names are an export still on its way
    ffmpeg, log = counting_ffmpeg(tmp_path)
    adapter = evidence_adapter(folder.path, ffmpeg=ffmpeg, max_clip_bytes=2_000_000)
    adapter.poll()
    adapter.poll()
    health = adapter.health()
    assert health["devices"] == ["pb-body-03"] and health["clips"] == 1 and health["folder_error"] is None
    assert health["problems"] == {
        "bad-metadata.mp4": "metadata file 'bad-metadata.json': start is missing or not a date-time",
        "not-video.mp4": "ffmpeg cannot read it: Error opening input files: Invalid data found when processing input",
        "playlist-posing-as-video.mp4": "ffmpeg cannot read it: Error opening input files: Invalid data found when processing input",
        "huge.mp4": "3000000 bytes, over max_clip_bytes (2000000)",
        "linked.mp4": "a symbolic link: refused (copy the file into the folder instead)",
    }  # fmt: skip
    assert health["waiting"] == {"no-sidecar.mp4": "no metadata file 'no-sidecar.json' beside it yet"}
    assert runs(log) == 3  # good, not-video, the playlist: each tried once, not again at the second look
    (folder.path / "not-video.mp4").write_bytes(folder.clip.read_bytes())  # fixed by the operator: tried again
    adapter.poll()
    assert adapter.health()["waiting"]["not-video.mp4"].startswith("still being written") and runs(log) == 3
    adapter.poll()
    assert runs(log) == 4 and "not-video.mp4" not in adapter.health()["problems"]
    assert adapter.health()["devices"] == ["pb-body-03", "pb-body-05"]
    asyncio.run(adapter.aclose())


def test_a_clip_still_being_written_is_taken_once_it_stops_changing(folder: EvidenceFolder) -> None:
    adapter = evidence_adapter(folder.path, settle_seconds=3600)
    data = folder.clip.read_bytes()
    clip = folder.drop("stop-1", "pb-body-03", START, clip_bytes=data[: len(data) // 2])
    adapter.poll()
    assert adapter.health()["waiting"] == {
        "stop-1.mp4": "still being written (its size or time changed since the last look)"
    }
    clip.write_bytes(data)  # the copy goes on
    adapter.poll()
    assert "stop-1.mp4" in adapter.health()["waiting"] and adapter.health()["clips"] == 0
    adapter.poll()  # unchanged since the last look: complete
    assert adapter.health()["waiting"] == {} and adapter.health()["devices"] == ["pb-body-03"]
    asyncio.run(adapter.aclose())


def test_the_watcher_takes_a_dropped_clip_at_its_next_tick(folder: EvidenceFolder) -> None:
    folder.path.mkdir(parents=True)

    async def main() -> None:
        ticks = Ticks()
        adapter = evidence_adapter(folder.path, sleep=ticks.sleep, poll_interval_seconds=2, settle_seconds=3600)
        try:
            with pytest.raises(AdapterError):  # the first request starts the watcher; nothing there yet
                await adapter.recording("pb-body-03", START - HOUR, START + HOUR)
            await ticks.asleep()  # its first look done
            folder.drop("stop-1", "pb-body-03", START)  # lands now; settles over two looks
            await ticks.tick()
            assert adapter.health()["waiting"] and adapter.health()["clips"] == 0
            await ticks.tick()
            recording = await adapter.recording("pb-body-03", START - HOUR, START + HOUR)
            assert len(recording.segments) == 3 and ticks.asked == [2, 2, 2]
        finally:
            await adapter.aclose()

    asyncio.run(main())


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    async def use(a: EvidenceAdapter) -> None:
        with pytest.raises(AdapterError, match=r"evidence folder .*nowhere.*: No such file or directory") as info:
            await a.recording("pb-body-03", START - HOUR, START + HOUR)
        assert info.value.status is None  # not "nothing recorded": the broker answers 502 upstream_error
        with pytest.raises(AdapterError, match="No such file or directory"):
            await a.discover()

    adapter = evidence_adapter(tmp_path / "nowhere")
    run(adapter, use)
    assert "No such file or directory" in adapter.health()["folder_error"]


def test_problems_name_files_inside_the_folder_never_the_private_cache(folder: EvidenceFolder, tmp_path: Path) -> None:
    folder.drop("stop-1", "pb-body-03", START, age=60)
    script = tmp_path / "ffmpeg"  # fails naming the playlist it was to write: a path inside the private cache
    script.write_text("#!/bin/sh\nfor last; do :; done\necho \"[hls @ 0x1] Failed to open file '$last'\" >&2\nexit 1\n")
    script.chmod(0o755)

    async def use(a: EvidenceAdapter) -> tuple[object, object]:
        before = await a.problems()  # starts watching the folder
        with pytest.raises(AdapterError, match="no clip of device 'pb-body-03'"):  # after the first look
            await a.recording("pb-body-03", START, START + HOUR)
        return before, await a.problems()

    adapter = evidence_adapter(folder.path, ffmpeg=str(script), cache_dir=str(tmp_path / "cache"))
    before, after = run(adapter, use)
    assert before == ProblemReport(None) and isinstance(adapter, ReportsProblems)
    assert isinstance(after, ProblemReport) and after.checked_at is not None
    (problem,) = after.problems
    assert problem.subject == "stop-1.mp4" and str(tmp_path) not in problem.message
    assert problem.message.startswith("ffmpeg cannot read it: [hls @ 0x1] Failed to open file '<cache>/.part-")

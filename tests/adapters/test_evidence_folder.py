"""The evidence folder over time and its settings: devices listed, every vendor format played, clips removed or
changed, overlapping exports, the repackaged segments kept (or not) across restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.evidence import EvidenceAdapter
from adapters.evidence.repackage import bundled_ffmpeg
from broker.adapterapi import AdapterConfigError, DiscoveredCamera, SystemSpec
from broker.inventory.adapters import load_adapter
from tests.adapters.evidence_support import START, counting_ffmpeg, evidence_adapter, run, runs
from tests.fakes.evidence import EvidenceFolder, make_test_clip

pytestmark = pytest.mark.video
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def source_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_clip(tmp_path_factory.mktemp("evidence-clip"))


@pytest.fixture
def folder(tmp_path: Path, source_clip: Path) -> EvidenceFolder:
    return EvidenceFolder(tmp_path / "exports", source_clip)


@pytest.mark.parametrize(
    ("fmt", "device"),
    [("digital_ally", "FV-0003"), ("arbitrator", "1005-1"), ("axon", "X6039A1B2"), ("generic", "pb-body-03")],
)
def test_every_vendor_format_plays(folder: EvidenceFolder, fmt: str, device: str) -> None:
    folder.drop("clip", device, START, fmt=fmt, age=60)
    recording = run(evidence_adapter(folder.path, format=fmt), lambda a: a.recording(device, START, START + HOUR))
    assert [s.start for s in recording.segments] == [START, START + timedelta(seconds=2), START + timedelta(seconds=4)]


def test_discover_lists_each_device_with_its_latest_clip(folder: EvidenceFolder) -> None:
    folder.drop("a1", "FV-0003", START, fmt="digital_ally", age=60)
    folder.drop("a2", "FV-0003", START + HOUR, fmt="digital_ally", age=60)
    folder.drop("b1", "FV-0007", START, fmt="digital_ally")  # just landed: listed, though not yet playable
    (folder.path / "broken.mp4").write_bytes(b"x")
    (folder.path / "broken.mtd").write_text("Unit Serial: FV-0009\n")  # no Event Start: not a device
    cameras = run(evidence_adapter(folder.path, format="digital_ally"), lambda a: a.discover())
    assert cameras == (
        DiscoveredCamera(
            "FV-0003",
            "FirstVu HD FV-0003",
            {
                "format": "digital_ally",
                "clips": "2",
                "serial": "FV-0003",
                "model": "FirstVu HD",
                "latest_clip": "2026-09-14T13:58:00Z",
            },
        ),
        DiscoveredCamera(
            "FV-0007",
            "FirstVu HD FV-0007",
            {
                "format": "digital_ally",
                "clips": "1",
                "serial": "FV-0007",
                "model": "FirstVu HD",
                "latest_clip": "2026-09-14T12:58:00Z",
            },
        ),
    )


def test_a_removed_clip_leaves_the_timeline_and_the_cache_and_a_changed_one_is_taken_again(
    folder: EvidenceFolder,
) -> None:
    clip = folder.drop("stop-1", "pb-body-03", START, age=60)
    adapter = evidence_adapter(folder.path)
    adapter.poll()
    (first,) = adapter.index.clips.values()
    assert first.directory.is_dir() and adapter.index.timelines["pb-body-03"].segments[0].start == START
    folder.drop("stop-1", "pb-body-03", START + HOUR, age=30)  # a corrected export: same clip, new start
    adapter.poll()
    (second,) = adapter.index.clips.values()
    assert second.id != first.id and not first.directory.exists()
    assert adapter.index.timelines["pb-body-03"].segments[0].start == START + HOUR
    clip.unlink()
    adapter.poll()
    assert adapter.index.clips == {} and "pb-body-03" not in adapter.index.timelines and not second.directory.exists()
    asyncio.run(adapter.aclose())


def test_overlapping_exports_of_a_device_never_run_backwards(folder: EvidenceFolder) -> None:
    folder.drop("first", "pb-body-03", START, age=60)
    folder.drop("again", "pb-body-03", START + timedelta(seconds=2), age=60)  # 4 of its 6 s overlap the first
    adapter = evidence_adapter(folder.path)
    adapter.poll()
    line = adapter.index.timelines["pb-body-03"].segments
    assert [s.start for s in line] == [START + timedelta(seconds=s) for s in (0, 2, 4, 6)]
    assert [s.discontinuity for s in line] == [True, False, False, True]
    assert adapter.health()["problems"] == {
        "again.mp4": "2 segment(s) overlap an earlier clip of device 'pb-body-03': left out"
    }
    asyncio.run(adapter.aclose())


def test_repackaged_segments_live_in_a_private_cache(folder: EvidenceFolder, tmp_path: Path) -> None:
    folder.drop("stop-1", "pb-body-03", START, age=60)
    ffmpeg, log = counting_ffmpeg(tmp_path)
    temporary = evidence_adapter(folder.path, ffmpeg=ffmpeg)
    temporary.poll()
    cache = next(iter(temporary.index.clips.values())).directory.parent
    assert cache.stat().st_mode & 0o777 == 0o700
    asyncio.run(temporary.aclose())
    assert not cache.exists()  # a temporary cache goes with the adapter

    kept = tmp_path / "cache"
    for _ in range(2):  # a restart finds the segments already made: ffmpeg is not run again
        adapter = evidence_adapter(folder.path, ffmpeg=ffmpeg, cache_dir=str(kept))
        assert len(run(adapter, lambda a: a.recording("pb-body-03", START, START + HOUR)).segments) == 3
    mine = kept / "ncpb-evidence"  # each system has its own sub-folder of cache_dir
    assert runs(log) == 2 and mine.stat().st_mode & 0o777 == 0o700
    (mine / "0123456789abcdef").mkdir()  # a clip gone from the folder meanwhile: its entry is pruned
    (mine / "notes.txt").write_text("the operator's")  # anything else is left alone
    adapter = evidence_adapter(folder.path, ffmpeg=ffmpeg, cache_dir=str(kept))
    adapter.poll()
    assert sorted(p.name for p in mine.iterdir()) == sorted([*adapter.index.clips, "notes.txt"])
    asyncio.run(adapter.aclose())


def test_ffmpeg_runs_without_the_brokers_environment(
    folder: EvidenceFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker's environment holds its secrets (stream token key, signing key, camera passwords): a child's
    environment is listed by ``ps e`` and /proc/PID/environ, so ffmpeg gets none of it (issue 13 item 9)."""
    secret = "s3cr3t-token-key-for-the-environment-test"
    monkeypatch.setenv("CAMGATE_STREAMS__TOKEN_SECRET", secret)
    seen = tmp_path / "ffmpeg-env.txt"
    script = tmp_path / "ffmpeg"
    script.write_text(f'#!/bin/sh\nenv > "{seen}"\nexec "{bundled_ffmpeg()}" "$@"\n')
    script.chmod(0o700)
    folder.drop("stop-1", "pb-body-03", START, age=60)
    adapter = evidence_adapter(folder.path, ffmpeg=str(script))
    assert len(run(adapter, lambda a: a.recording("pb-body-03", START, START + HOUR)).segments) == 3
    env = seen.read_text()
    assert secret not in env and "CAMGATE" not in env, env


def spec(**settings: Any) -> SystemSpec:
    return SystemSpec(id="ev", adapter="evidence", base_url=settings.pop("base_url", None), settings=settings)


# fmt: off
BAD_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({}, "setting 'path': Field required"),
    ({"path": "/x", "format": "motorola"}, "setting 'format': Input should be 'digital_ally', 'arbitrator', 'axon' or 'generic'"),
    ({"path": "/x", "pasword_env": "X"}, "setting 'pasword_env': unknown key (not a setting of this adapter)"),
    ({"path": "/x", "base_url": "http://127.0.0.1/"}, "setting 'base_url': an evidence folder has no URL; name it with 'path'"),
    ({"path": "/x", "cache_dir": "/x/cache"}, "setting 'cache_dir': must not lie inside the evidence folder 'path'"),
    ({"path": "/x", "timezone": "Eastern"}, "setting 'timezone': 'Eastern' is not an IANA time zone"),
    ({"path": "http://vms/x"}, "setting 'path': must be a file system path"),
    ({"path": "/x", "poll_interval_seconds": 0}, "setting 'poll_interval_seconds': Input should be greater than or equal to 0.1"),
]
# fmt: on


@pytest.mark.parametrize(("settings", "message"), BAD_SETTINGS)
def test_settings_name_the_offending_setting(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(AdapterConfigError) as info:
        load_adapter(spec(**settings))
    assert str(info.value).startswith(f"system 'ev': {message}")


def test_the_registry_builds_it_without_touching_the_disk(tmp_path: Path) -> None:
    adapter = load_adapter(spec(path=str(tmp_path / "not-yet-mounted")))
    assert isinstance(adapter, EvidenceAdapter) and adapter.settings.format == "generic"
    assert repr(adapter) == f"EvidenceAdapter(system='ev', folder='{tmp_path / 'not-yet-mounted'}')"
    assert not (tmp_path / "not-yet-mounted").exists()
    asyncio.run(adapter.aclose())


def test_clips_are_found_in_sub_folders_down_to_max_depth(folder: EvidenceFolder, source_clip: Path) -> None:
    folder.drop("a/b/shallow", "pb-body-03", START, age=60)
    folder.drop("a/b/c/deep", "pb-body-04", START, age=60)
    adapter = evidence_adapter(folder.path, max_depth=2)
    adapter.poll()
    assert sorted(adapter.index.timelines) == ["pb-body-03"]
    asyncio.run(adapter.aclose())


def test_a_listing_between_two_looks_does_not_settle_a_clip_still_landing(folder: EvidenceFolder) -> None:
    """Only polls count as looks: an operator's listing right after a clip landed must not make the next poll
    take it as complete (it was: inventory sync's listing stood in for the first look)."""
    folder.drop("c1", "FV-0003", START, fmt="digital_ally")  # just landed
    adapter = evidence_adapter(folder.path, format="digital_ally")
    try:
        assert [c.ref for c in asyncio.run(adapter.discover())] == ["FV-0003"]  # listed, not looked at
        adapter.poll()  # the first look: still settling
        assert adapter.index.timelines == {}
        adapter.poll()  # unchanged since the first look: taken
        assert list(adapter.index.timelines) == ["FV-0003"]
    finally:
        asyncio.run(adapter.aclose())

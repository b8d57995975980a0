"""Recorded footage through the HLS adapter: the origin's recording playlist (VOD, EVENT or sliding) read over
real HTTP, segments placed by EXT-X-PROGRAM-DATE-TIME (RFC 8216 §4.3.2.6), the window applied, and hostile or
unplaceable recording playlists refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.hls.recording import parse_instant
from broker.adapterapi import (
    AdapterConfigError,
    AdapterError,
    NotSupported,
    Recording,
    RefusedPlaylist,
    starting_within,
)
from tests.adapters.test_hls_adapter import adapter_for, fails, run
from tests.fakes.hls_origin import DECOY_PATH, FakeHlsOrigin, OriginContent
from tests.fakes.hostile import HOSTILE_KINDS, hostile_playlist

T0 = datetime(2026, 9, 14, 12, 59, 0, tzinfo=UTC)
RECORDING = "cam1/recording.m3u8"


def event_playlist(kind: str = "EVENT", start: datetime = T0, names: tuple[str, ...] = ("seg000.ts", "seg001.ts",
                   "seg002.ts", "seg003.ts"), endlist: bool = False) -> bytes:  # fmt: skip
    head = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
    head += f"#EXT-X-PLAYLIST-TYPE:{kind}\n" if kind else ""
    body = "".join(
        f"#EXT-X-PROGRAM-DATE-TIME:{(start + timedelta(seconds=i)).isoformat(timespec='milliseconds')}\n"
        f"#EXTINF:1.000000,\n{name}\n"
        for i, name in enumerate(names)
    )
    return (head + body + ("#EXT-X-ENDLIST\n" if endlist else "")).encode()


def recording(origin: FakeHlsOrigin, start: datetime, end: datetime, **settings: object) -> Recording:
    return run(adapter_for(origin.base_url, **settings), lambda a: a.recording("cam1", start, end))


@pytest.mark.parametrize("kind", ["EVENT", "VOD", ""])
def test_segments_starting_in_the_window_are_listed_in_time(hls_origin: FakeHlsOrigin, kind: str) -> None:
    hls_origin.override(RECORDING, event_playlist(kind, endlist=kind == "VOD"))
    rec = recording(hls_origin, T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=3))
    assert [s.ref for s in rec.segments] == ["cam1/seg001.ts", "cam1/seg002.ts"]  # seg000 began before the window
    assert [s.start for s in rec.segments] == [T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]
    assert all(s.duration == 1.0 and not s.discontinuity for s in rec.segments) and rec.target_duration == 1
    whole = recording(hls_origin, T0, T0 + timedelta(seconds=10))
    assert len(whole.segments) == 4
    assert recording(hls_origin, T0 + timedelta(seconds=4), T0 + timedelta(seconds=10)).segments == ()
    assert recording(hls_origin, T0 - timedelta(seconds=10), T0).segments == ()  # the end is exclusive


def test_listed_segments_are_fetched_as_resources(hls_origin: FakeHlsOrigin, hls_content: OriginContent) -> None:
    hls_origin.override(RECORDING, event_playlist())

    async def use(a):  # type: ignore[no-untyped-def]
        rec = await a.recording("cam1", T0, T0 + timedelta(seconds=1))
        return await a.resource(rec.segments[0].ref)

    fetched = run(adapter_for(hls_origin.base_url), use)
    assert fetched.body == (hls_content.root / "cam1" / "seg000.ts").read_bytes()


def test_dates_are_derived_across_segments_and_reset_by_discontinuities(hls_origin: FakeHlsOrigin) -> None:
    # ffmpeg's own format (+0000 offset, milliseconds); one date, then derived; a gap after a discontinuity.
    body = (
        b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n"
        b"#EXT-X-PROGRAM-DATE-TIME:2026-09-14T08:59:00.250-0400\n#EXTINF:2.0,\nseg000.ts\n#EXTINF:1.5,\nseg001.ts\n"
        b"#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-09-14T12:59:30Z\n#EXTINF:1,\nseg002.ts\n"
        b"#EXT-X-GAP\n#EXTINF:1,\nseg003.ts\n#EXTINF:1,\nseg000.ts\n"
    )
    hls_origin.override(RECORDING, body)
    rec = recording(hls_origin, T0, T0 + timedelta(minutes=1))
    starts = [s.start - T0 for s in rec.segments]
    assert starts == [timedelta(seconds=s) for s in (0.25, 2.25, 30, 32)]  # the GAP segment is left out
    assert [s.discontinuity for s in rec.segments] == [False, False, True, True]


def test_program_date_time_forms() -> None:
    assert parse_instant("2026-09-14T12:59:00Z", 1) == T0
    assert parse_instant("2026-09-14T08:59:00.1234567-04:00", 1) == T0 + timedelta(
        microseconds=123456
    )  # truncated to microseconds
    for bad in ("2026-09-14T12:59:00", "2026-09-14 12:59:00Z", "1757854740", "2026-13-14T12:59:00Z"):
        with pytest.raises(RefusedPlaylist):
            parse_instant(bad, 3)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg000.ts\n", "cannot be placed in time"),
        (event_playlist().replace(b"2026-09-14T12:59:01", b"2026-09-14T12:58:01"), "go back in time"),
        (event_playlist().replace(b"#EXT-X-TARGETDURATION:1\n", b""), "TARGETDURATION"),
        (b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex.m3u8\n", "master playlist"),
        (event_playlist().replace(b"#EXTINF:1.000000,\nseg001", b"#EXT-X-BYTERANGE:10@0\n#EXTINF:1.000000,\nseg001"),
         "BYTERANGE"),
        (event_playlist().replace(b"#EXTINF:1.000000,\nseg001", b"#EXTINF:1.000000,\n seg001"), "whitespace"),
        (event_playlist().replace(b"#EXTINF:1.000000,\nseg002", b"#EXTINF:90,\nseg002"), "EXTINF duration"),
        (event_playlist().replace(b"seg002.ts\n", b"seg002.ts\nseg003.ts\n"), "without a preceding #EXTINF"),
    ],
)  # fmt: skip
def test_unplaceable_or_unsupported_recordings_are_refused(hls_origin: FakeHlsOrigin, body: bytes, why: str) -> None:
    hls_origin.override(RECORDING, body)
    err = fails(adapter_for(hls_origin.base_url), lambda a: a.recording("cam1", T0, T0 + timedelta(minutes=1)))
    assert isinstance(err, RefusedPlaylist) and why in str(err), err


def _with_dates(body: bytes) -> bytes:
    """A hostile live playlist made a recording: one program date-time places every segment."""
    stamp = b"#EXT-X-MEDIA-SEQUENCE:0\n"
    return body.replace(stamp, stamp + b"#EXT-X-PROGRAM-DATE-TIME:2026-09-14T12:59:00Z\n", 1)


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_recording_playlists_are_refused(hls_origin: FakeHlsOrigin, kind: str) -> None:
    hls_origin.override(RECORDING, _with_dates(hostile_playlist(kind, port=hls_origin.port)))
    err = fails(adapter_for(hls_origin.base_url), lambda a: a.recording("cam1", T0, T0 + timedelta(minutes=1)))
    assert isinstance(err, RefusedPlaylist) or kind == "huge", (kind, err)  # huge: over the size cap first
    assert hls_origin.requests[DECOY_PATH] == 0
    assert [t for t in hls_origin.targets if "recording" not in t] == []  # nothing listed was fetched


def test_no_recording_path_is_not_supported_and_a_404_says_nothing_recorded(hls_origin: FakeHlsOrigin) -> None:
    err = fails(adapter_for(hls_origin.base_url, recording_path=None), lambda a: a.recording("cam1", T0, T0))
    assert isinstance(err, NotSupported)
    assert hls_origin.targets == []
    err = fails(adapter_for(hls_origin.base_url), lambda a: a.recording("cam1", T0, T0 + timedelta(seconds=1)))
    assert err.status == 404 and not isinstance(err, RefusedPlaylist)


def test_recording_path_is_a_template(hls_origin: FakeHlsOrigin) -> None:
    hls_origin.override("rec/cam1.m3u8", event_playlist())
    rec = recording(hls_origin, T0, T0 + timedelta(seconds=2), recording_path="rec/{ref}.m3u8")
    assert [s.ref for s in rec.segments] == ["rec/seg000.ts", "rec/seg001.ts"]
    for bad in ("recording.m3u8", "/{ref}/r.m3u8", "http://x/{ref}.m3u8"):
        with pytest.raises(AdapterConfigError, match="recording_path"):
            adapter_for(hls_origin.base_url, recording_path=bad)


def test_starting_within_is_half_open() -> None:
    from broker.adapterapi import RecordedSegment

    segs = tuple(RecordedSegment(f"s{i}.ts", T0 + timedelta(seconds=i), 1.0) for i in range(3))
    assert [s.ref for s in starting_within(segs, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))] == ["s1.ts"]
    with pytest.raises(AdapterError):
        raise RefusedPlaylist("a RefusedPlaylist is an AdapterError")


def test_a_segment_that_is_a_playlist_is_refused(hls_origin: FakeHlsOrigin) -> None:
    hls_origin.override(RECORDING, event_playlist(names=("seg000.ts", "index.m3u8")))
    err = fails(adapter_for(hls_origin.base_url), lambda a: a.recording("cam1", T0, T0 + timedelta(minutes=1)))
    assert isinstance(err, RefusedPlaylist) and "names a playlist" in str(err)

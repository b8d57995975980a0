"""The segment index: ffmpeg's playlists read, one media sequence across restarts with discontinuities marked,
live windows per start on demand, the recording window, pruning; only plain segment names ever indexed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broker.enforcement.playlist import parse_playlist
from broker.gateway.index import SegmentIndex, parse_ffmpeg_playlist

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)

FFMPEG = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:1796035001784246
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.899922,
#EXT-X-PROGRAM-DATE-TIME:2026-09-14T13:00:00.000+0000
s1796035001784246.ts
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-09-14T13:00:01.900+0000
s1796035001784247.ts
#EXTINF:1.000000,
../../etc/passwd.ts
#EXTINF:1.000000,
http://elsewhere.example/x.ts
#EXTINF:1.000000,
s1796035001784248.ts
"""


def test_ffmpeg_playlists_are_read_in_either_tag_order_and_hostile_names_left_out() -> None:
    entries = parse_ffmpeg_playlist(FFMPEG)
    assert [e[0] for e in entries] == ["s1796035001784246.ts", "s1796035001784247.ts", "s1796035001784248.ts"]
    assert entries[0][1] == T0 and entries[0][2] == 1.899922
    assert entries[1][1] == T0 + timedelta(seconds=1.9)
    assert entries[2][1] is None  # no date: placed after its predecessor when indexed


def one(name: str, at: float, length: float = 1.0) -> tuple[str, datetime, float]:
    return (name, T0 + timedelta(seconds=at), length)


def test_a_restart_continues_the_media_sequence_with_a_discontinuity() -> None:
    index = SegmentIndex(1.0)
    assert index.add([one("a1.ts", 0, 1.9), one("a2.ts", 1.9)], run=1, epoch=1, now=T0) == 2
    assert index.add([one("a2.ts", 1.9), one("a3.ts", 2.9)], run=1, epoch=1, now=T0) == 1  # seen ones skipped
    index.add([one("b1.ts", 9), one("b2.ts", 10)], run=2, epoch=1, now=T0)  # ffmpeg restarted
    text = (index.live_playlist(epoch=1, count=4) or b"").decode()
    assert text.splitlines()[:6] == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    assert text.index("a3.ts") < text.index("#EXT-X-DISCONTINUITY\n") < text.index("b1.ts")
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-09-14T13:00:09.000Z\n#EXTINF:1.000000,\nb1.ts" in text
    later = (index.live_playlist(epoch=1, count=2) or b"").decode()
    assert "#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-DISCONTINUITY-SEQUENCE:1" in later and "#EXT-X-DISCONTINUITY\n" not in later
    # The broker's own playlist parser accepts it (RFC 8216 tags it knows).
    parsed = parse_playlist(text.encode(), base_ref="gw/k/live.m3u8", resolve=lambda _b, uri: f"gw/k/{uri}")
    assert parsed.target_duration == 2


def test_a_new_start_on_demand_lists_only_its_own_segments_while_the_recording_keeps_all() -> None:
    index = SegmentIndex(1.0)
    index.add([one("a1.ts", 0), one("a2.ts", 1)], run=1, epoch=1, now=T0)
    assert index.live_playlist(epoch=2, count=6) is None  # a viewer after an idle stop waits for new video
    index.add([one("c1.ts", 300)], run=2, epoch=2, now=T0)
    live = (index.live_playlist(epoch=2, count=6) or b"").decode()
    assert "c1.ts" in live and "a2.ts" not in live
    window = index.starting_within(T0 + timedelta(seconds=1), T0 + timedelta(seconds=301))
    assert [s.name for s in window] == ["a2.ts", "c1.ts"]


def test_undated_segments_follow_their_predecessor_and_the_target_only_grows() -> None:
    index = SegmentIndex(1.0)
    index.add([one("a1.ts", 0, 1.0), ("a2.ts", None, 2.6)], run=1, epoch=1, now=T0)
    assert index.segments[1].start == T0 + timedelta(seconds=1) and index.target == 3
    index.add([one("a3.ts", 3.6, 1.0)], run=1, epoch=1, now=T0)
    assert index.target == 3


def test_pruning_forgets_segments_past_retention_but_keeps_the_live_window() -> None:
    index = SegmentIndex(1.0)
    index.add([one(f"a{i}.ts", i) for i in range(10)], run=1, epoch=1, now=T0)
    assert index.prune(T0 + timedelta(seconds=4), keep=3) == ["a0.ts", "a1.ts", "a2.ts"]
    assert index.prune(T0 + timedelta(seconds=100), keep=3) == ["a3.ts", "a4.ts", "a5.ts", "a6.ts"]
    assert [s.name for s in index.segments] == ["a7.ts", "a8.ts", "a9.ts"] and "a0.ts" not in index

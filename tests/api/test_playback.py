"""Recorded footage through the broker: ``playback.m3u8?start=&end=`` decided with the contract's playback-window
rules (§4), served as a VOD playlist the broker writes, every segment signed and decided again.

The fake origin serves a recording playlist (EXT-X-PROGRAM-DATE-TIME per segment) over the real H.264 segments
of its cameras; the clock is a FakeClock at START (13:00Z), so footage is placed relative to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from broker.timeutil import format_instant, parse_instant
from tests.api.support import PREFIX, START, Api, assert_422
from tests.api.test_streams import SEGMENT_URL, assert_nothing_upstream_leaks, segment_bytes

PLAYLIST = "application/vnd.apple.mpegurl"


def recording(start: datetime, seconds: int) -> bytes:
    """A sliding recording of 1-second segments from ``start`` (the origin's four files, in turn)."""
    head = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
    return (
        head
        + "".join(
            f"#EXT-X-PROGRAM-DATE-TIME:{format_instant(start + timedelta(seconds=i))}\n#EXTINF:1.000000,\n"
            f"seg{i % 4:03d}.ts\n"
            for i in range(seconds)
        )
    ).encode()


def playback(api: Api, camera: str, start: datetime | str | None, end: datetime | str | None = None,
             as_: str = "officer"):  # type: ignore[no-untyped-def]  # fmt: skip
    params = {}
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            params[name] = format_instant(value) if isinstance(value, datetime) else value
    return api.get(f"{PREFIX}/{camera}/playback.m3u8", as_=as_, params=params)


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def dates(text: str) -> list[datetime]:
    return [parse_instant(line.split(":", 1)[1]) for line in text.splitlines() if "PROGRAM-DATE-TIME" in line]


@pytest.fixture
def exterior(api: Api) -> Api:
    """saxe-ext-01 (origin cam1) recorded for the 60 seconds before START."""
    api.origin.override("cam1/recording.m3u8", recording(START - timedelta(seconds=60), 60))
    return api


def test_exterior_footage_is_a_vod_playlist_of_signed_segments(exterior: Api) -> None:
    api = exterior
    r = playback(api, "saxe-ext-01", START - timedelta(seconds=10), START - timedelta(seconds=6))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == PLAYLIST and r.headers["cache-control"] == "no-store"
    lines = r.text.splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-TARGETDURATION:1" in lines
    assert dates(r.text) == [START - timedelta(seconds=s) for s in (10, 9, 8, 7)]
    listed = uris(r.text)
    assert [SEGMENT_URL.match(u)["name"] for u in listed] == ["seg002.ts", "seg003.ts", "seg000.ts", "seg001.ts"]  # type: ignore[index]
    assert_nothing_upstream_leaks(api, r)
    segment = api.get(listed[1], as_=None)  # the signed URL is the credential
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    assert segment.content == segment_bytes(api, "cam1", "seg003.ts")
    # end defaults to now: everything recorded since start.
    assert len(uris(playback(api, "saxe-ext-01", START - timedelta(seconds=20)).text)) == 20
    decision = next(r for r in api.audit(camera="saxe-ext-01", kind="decision") if r["action"] == "playback")
    assert decision["allowed"] and decision["grant"] == "G1"
    assert decision["details"]["window"] == {"start": "2026-09-14T12:59:50Z", "end": "2026-09-14T12:59:54Z"}


def test_always_grant_reaches_back_max_age_and_not_a_second_more(exterior: Api) -> None:
    api = exterior
    oldest = START - timedelta(days=7)
    r = playback(api, "saxe-ext-01", oldest, oldest + timedelta(minutes=1))
    assert r.status_code == 404 and r.json()["error"] == "no_recording", r.text  # allowed; nothing recorded then
    r = playback(api, "saxe-ext-01", oldest - timedelta(seconds=1), oldest + timedelta(minutes=1))
    assert r.status_code == 403, r.text
    assert r.json() | {"message": ""} == {"error": "access_denied", "message": "", "reason": "outside_playback_window",
                                          "mou": "ncps-ncpd-video", "grant": "G1", "clause": "4.1"}  # fmt: skip
    assert api.origin.count("cam1/recording.m3u8") == 1  # a denied window never reaches the camera system


def test_emergency_grant_plays_the_30_seconds_before_the_declaration_and_not_the_31st(api: Api) -> None:
    api.origin.override("cam2/recording.m3u8", recording(START - timedelta(seconds=45), 105))  # to START+60s
    before = playback(api, "saxe-int-01", START - timedelta(seconds=30), START)
    assert before.status_code == 403 and before.json()["reason"] == "no_emergency"
    emergency = api.declared()
    declared = parse_instant(emergency["declared_at"])
    api.clock.advance(timedelta(seconds=60))

    r = playback(api, "saxe-int-01", declared - timedelta(seconds=30), declared)
    assert r.status_code == 200, r.text
    assert dates(r.text) == [declared - timedelta(seconds=30 - i) for i in range(30)]  # nothing earlier
    r31 = playback(api, "saxe-int-01", declared - timedelta(seconds=31), declared)
    assert r31.status_code == 403, r31.text
    assert r31.json()["reason"] == "outside_playback_window" and r31.json()["grant"] == "G2"
    # The whole emergency so far, pre-event footage included.
    assert len(uris(playback(api, "saxe-int-01", declared - timedelta(seconds=30)).text)) == 90
    records = [r for r in api.audit(camera="saxe-int-01", kind="decision") if r["action"] == "playback"]
    assert [(r["allowed"], r["reason"]) for r in records] == [
        (False, "no_emergency"), (True, "allowed"), (False, "outside_playback_window"), (True, "allowed"),
    ]  # fmt: skip
    assert records[1]["emergency"] == emergency["id"]


def test_segment_tokens_are_decided_again_so_ending_the_emergency_cuts_playback(api: Api) -> None:
    api.origin.override("cam2/recording.m3u8", recording(START - timedelta(seconds=30), 30))
    emergency = api.declared()
    r = playback(api, "saxe-int-01", START - timedelta(seconds=30), START)
    listed = uris(r.text)
    assert api.get(listed[0], as_=None).status_code == 200
    assert api.end(emergency["id"]).status_code == 200
    cut = api.get(listed[1], as_=None)
    assert cut.status_code == 403 and cut.json()["reason"] == "no_emergency", cut.text
    ended = [r for r in api.audit(camera="saxe-int-01", kind="session.end") if r["action"] == "playback"]
    assert ended and ended[0]["reason"] == "access_revoked:no_emergency"


def test_playback_tokens_outlive_live_ones_but_are_capped(api: Api) -> None:
    api.origin.override("cam1/recording.m3u8", recording(START - timedelta(seconds=10), 10))
    listed = uris(playback(api, "saxe-ext-01", START - timedelta(seconds=10)).text)
    api.clock.advance(timedelta(seconds=69))  # 10 s of footage + 60 s: still valid (a live token is dead by now)
    assert api.get(listed[0], as_=None).status_code == 200
    api.clock.advance(timedelta(seconds=1))
    r = api.get(listed[1], as_=None)
    assert r.status_code == 401 and r.json()["error"] == "invalid_stream_token" and r.json()["reason"] == "expired"
    # the cap: playback_token_max_seconds (900 s) however long the footage listed
    long = recording(START - timedelta(hours=1), 3600)
    api.origin.override("cam1/recording.m3u8", long)
    api.travel(START + timedelta(seconds=70))
    listed = uris(playback(api, "saxe-ext-01", START - timedelta(hours=1), START).text)
    assert len(listed) == 3600
    api.clock.advance(timedelta(seconds=899))
    assert api.get(listed[0], as_=None).status_code == 200
    api.clock.advance(timedelta(seconds=1))
    assert api.get(listed[0], as_=None).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "start"),
        ({"start": "2026-09-14T12:59:00"}, "start"),  # naive
        ({"start": "1757854740"}, "start"),  # a bare number
        ({"start": "2026-09-14 12:59:00Z"}, "start"),
        ({"start": "2026-09-14T12:59:00Z", "end": "2026-09-14T12:59:00Z"}, "start"),  # empty window
        ({"start": "2026-09-14T12:59:30Z", "end": "2026-09-14T12:59:00Z"}, "start"),  # reversed
        ({"start": "2026-09-14T12:59:00Z", "end": "2026-09-14T13:00:01Z"}, "end"),  # the future
        ({"start": "2026-09-14T13:00:01+00:00"}, "start"),  # start after now (end defaults to now)
        ({"start": "2026-09-14T12:59:00Z", "end": "noon"}, "end"),
    ],
)
def test_bad_windows_are_422_naming_the_field(exterior: Api, params: dict[str, str], field: str) -> None:
    r = exterior.get(f"{PREFIX}/saxe-ext-01/playback.m3u8", params=params)
    assert_422(r, field)
    assert exterior.origin.count("cam1/recording.m3u8") == 0


def test_what_the_camera_system_cannot_give(api: Api) -> None:
    start = START - timedelta(seconds=30)
    r = playback(api, "saxe-ext-01", start)  # the origin has no recording of cam1
    assert r.status_code == 404 and r.json()["error"] == "no_recording"
    assert playback(api, "nope-01", start).json()["error"] == "unknown_camera"
    api.origin.serve_hostile("cam1/recording.m3u8", "dotdot")
    r = playback(api, "saxe-ext-01", start)
    assert r.status_code == 502 and r.json()["error"] == "hostile_playlist"
    assert_nothing_upstream_leaks(api, r)
    adapter = api.services.pool.get("ncps-vms")
    adapter.settings = adapter.settings.model_copy(update={"recording_path": None})  # type: ignore[attr-defined]
    r = playback(api, "saxe-ext-01", start)
    assert r.status_code == 501 and r.json()["error"] == "recording_unsupported", r.text


def test_the_window_is_decided_again_at_every_segment(api: Api) -> None:
    # Footage 10 s younger than the always grant's max_age (7 d): allowed now, not 11 s from now.
    oldest = START - timedelta(days=7) + timedelta(seconds=10)
    api.origin.override("cam1/recording.m3u8", recording(oldest, 5))
    listed = uris(playback(api, "saxe-ext-01", oldest, oldest + timedelta(seconds=5)).text)
    assert api.get(listed[0], as_=None).status_code == 200
    api.clock.advance(timedelta(seconds=11))
    r = api.get(listed[1], as_=None)
    assert r.status_code == 403 and r.json()["reason"] == "outside_playback_window", r.text


def test_a_refused_recording_is_recorded_for_operators(api: Api) -> None:
    evil = recording(START - timedelta(seconds=30), 3).replace(b"seg001.ts", b"http://evil.example/hls/cam1/seg001.ts")
    api.origin.override("cam1/recording.m3u8", evil)
    r = playback(api, "saxe-ext-01", START - timedelta(seconds=30))
    assert r.status_code == 502 and "evil.example" not in r.text
    (refusal,) = api.audit(camera="saxe-ext-01", kind="upstream.refused")
    assert "evil.example" in refusal["details"]["why"] and refusal["principal_sub"] == "officer-17"


class Holds:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], float]] = []

    def hold(self, refs, seconds: float) -> None:  # type: ignore[no-untyped-def]
        self.calls.append((tuple(refs), seconds))


def test_the_demo_hook_records_the_sites_of_active_emergencies(api: Api) -> None:
    from broker.demo.hooks import EmergencyRecording

    saxe, east = Holds(), Holds()
    hook = EmergencyRecording(api.services, {"ncps-saxe": [(saxe, ["cam1", "cam2"])], "ncps-east": [(east, ["e"])]})
    assert hook.poll() == [] and saxe.calls == []
    emergency = api.declared()
    assert saxe.calls == [(("cam1", "cam2"), hook.lease)]  # at once, through the emergency listeners
    assert hook.poll() == ["ncps-saxe"]  # and again by the poll (other replicas' declarations)
    assert saxe.calls == [(("cam1", "cam2"), hook.lease)] * 2 and east.calls == []
    api.end(emergency["id"])
    saxe.calls.clear()
    assert hook.poll() == [] and saxe.calls == []


def test_a_recorded_playlist_never_passes_through(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Even if an adapter listed a playlist as a segment, the broker would not sign it (it would reach the
    # player unrewritten, upstream URIs and all).
    from broker.adapterapi import RecordedSegment, Recording

    async def listing(camera_ref: str, start: datetime, end: datetime) -> Recording:
        return Recording((RecordedSegment("cam1/index.m3u8", START - timedelta(seconds=5), 1.0),), 1)

    monkeypatch.setattr(api.services.pool.get("ncps-vms"), "recording", listing)
    r = playback(api, "saxe-ext-01", START - timedelta(seconds=10))
    assert r.status_code == 502 and r.json()["error"] == "hostile_playlist", r.text


def test_a_playback_token_for_a_playlist_or_without_a_window_is_refused(api: Api) -> None:
    from broker.enforcement.streamtoken import StreamClaims
    from broker.enforcement.vod import window_claim
    from broker.policy import Window

    window = window_claim(Window(START - timedelta(seconds=10), START))
    exp = int(START.timestamp()) + 60
    base = ("officer-17", "ncpd", ("officer",), "saxe-ext-01", "playback", "ncps-ncpd-video", "G1", None)
    for ref, win in (("cam1/index.m3u8", window), ("cam1/seg000.ts", None)):
        token = api.services.proxy.signer.sign(StreamClaims(*base, ref, exp, win))
        r = api.get(f"{PREFIX}/saxe-ext-01/hls/{ref.rsplit('/', 1)[1]}?t={token}", as_=None)
        assert r.status_code == 401 and r.json()["reason"] == "malformed", r.text
    token = api.services.proxy.signer.sign(StreamClaims(*base, "cam1/seg000.ts", exp, window))
    assert api.get(f"{PREFIX}/saxe-ext-01/hls/seg000.ts?t={token}", as_=None).status_code == 200

"""The stream routes end to end against a real HTTP origin serving real H.264: live.m3u8, segments, snapshots.

Every playlist URI is rewritten to a broker URL with a short-lived signed token; a segment request checks the
token and asks the PDP again; upstream bytes are fetched once however many viewers ask; upstream failures are
5xx answers that name no upstream address.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from broker.adapterapi import Fetched, NotSupported
from tests.api.support import PREFIX, Api
from tests.fakes.hls_origin import DECOY_PATH

PLAYLIST = "application/vnd.apple.mpegurl"
SEGMENT_URL = re.compile(
    rf"^{re.escape(PREFIX)}/(?P<camera>[a-z0-9._-]+)/hls/(?P<name>[A-Za-z0-9._-]+)\?t=(?P<token>[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$"
)


def assert_nothing_upstream_leaks(api: Api, r: httpx.Response) -> None:
    text = r.content.decode("latin-1")
    for leak in (
        api.origin.base_url,
        f"127.0.0.1:{api.origin.port}",
        str(api.origin.port),
        "/hls/cam",
        "ncps-vms",
        "secret",
    ):
        assert leak not in text, (leak, text[:500])


def segment_bytes(api: Api, camera_ref: str, name: str) -> bytes:
    return (api.content.root / camera_ref / name).read_bytes()


def with_token(uri: str, token: str) -> str:
    m = SEGMENT_URL.match(uri)
    assert m, uri
    return f"{PREFIX}/{m['camera']}/hls/{m['name']}?t={token}"


def token_of(uri: str) -> str:
    m = SEGMENT_URL.match(uri)
    assert m, uri
    return m["token"]


# -- live playlist ------------------------------------------------------------------------------------------


def test_live_playlist_is_rewritten_to_broker_urls(api: Api) -> None:
    r = api.live("saxe-ext-01")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == PLAYLIST
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    lines = r.text.splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-TARGETDURATION:1" in lines and "#EXT-X-ENDLIST" in lines
    uris = [line for line in lines if line and not line.startswith("#")]
    assert len(uris) == 4
    for uri, name in zip(uris, ["seg000.ts", "seg001.ts", "seg002.ts", "seg003.ts"], strict=True):
        m = SEGMENT_URL.match(uri)
        assert m and m["camera"] == "saxe-ext-01" and m["name"] == name, uri
    assert_nothing_upstream_leaks(api, r)
    assert "URI=" not in r.text  # no attribute URI left unrewritten
    assert api.origin.count("cam1/index.m3u8") == 1


def test_a_rewritten_segment_is_the_origins_exact_bytes(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")
    r = api.get(uris[2], as_=None)  # the signed URL is the credential: no bearer token needed
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp2t" and r.headers["cache-control"] == "no-store"
    assert r.content == segment_bytes(api, "cam1", "seg002.ts")
    assert r.content[0] == 0x47  # an MPEG-TS sync byte
    assert api.origin.count("cam1/seg002.ts") == 1


def test_many_viewers_one_upstream_fetch(api: Api) -> None:
    viewers = ["officer", "officer2", "officer3"]
    urls = {who: api.playlist_uris("saxe-ext-01", as_=who)[0] for who in viewers}
    assert len(set(urls.values())) == 3  # each viewer has their own signed URL
    expected = segment_bytes(api, "cam1", "seg000.ts")
    for i in range(50):
        r = api.get(urls[viewers[i % 3]], as_=None)
        assert r.status_code == 200 and r.content == expected
    assert api.origin.count("cam1/seg000.ts") == 1
    assert api.origin.count("cam1/index.m3u8") == 1  # the playlist too is shared for playlist_ttl_seconds
    # Each viewer has one session: the 50 requests are not 50 audit records.
    starts = api.audit(kind="session.start", camera="saxe-ext-01")
    assert sorted(r["principal_sub"] for r in starts) == ["officer-17", "officer-22", "officer-31"]
    assert len(api.audit(kind="decision", camera="saxe-ext-01")) == 3


def test_a_master_playlist_and_its_variants_are_rewritten(api: Api) -> None:
    variants = api.playlist_uris("saxe-ext-03")
    assert len(variants) == 2 and all(SEGMENT_URL.match(u)["name"] == "index.m3u8" for u in variants)  # type: ignore[index]
    r = api.get(variants[1], as_=None)
    assert r.status_code == 200 and r.headers["content-type"] == PLAYLIST
    assert_nothing_upstream_leaks(api, r)
    segments = [line for line in r.text.splitlines() if line and not line.startswith("#")]
    assert len(segments) == 4
    seg = api.get(segments[0], as_=None)
    assert seg.status_code == 200 and seg.content == segment_bytes(api, "cam2", "seg000.ts")


def test_parking_lot_camera_streams_under_its_own_mou(api: Api) -> None:
    uris = api.playlist_uris("lots-ext-01")
    assert api.get(uris[0], as_=None).content == segment_bytes(api, "cam1", "seg000.ts")
    (rec,) = api.audit(kind="decision", camera="lots-ext-01")
    assert (rec["mou"], rec["grant"], rec["clause"]) == ("ncpb-ncpd-video", "P1", "2")


# -- signed segment URLs ------------------------------------------------------------------------------------


def test_a_tampered_token_is_401(api: Api) -> None:
    uri = api.playlist_uris("saxe-ext-01")[0]
    token = token_of(uri)
    payload, mac = token.split(".")
    flipped_mac = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    flipped_payload = ("A" if payload[0] != "A" else "B") + payload[1:]
    for bad in (f"{payload}.{flipped_mac}", f"{flipped_payload}.{mac}", f"{payload}.{mac}x", f"{payload}.", token[:-1]):
        r = api.get(with_token(uri, bad), as_=None)
        assert r.status_code == 401, (bad, r.text)
        assert r.json()["error"] == "invalid_stream_token"
        assert r.headers["www-authenticate"].startswith("Bearer ")
    assert api.origin.count("cam1/seg000.ts") == 0


def test_a_token_for_camera_a_is_refused_on_camera_b(api: Api) -> None:
    uri = api.playlist_uris("saxe-ext-01")[0]  # ref cam1/seg000.ts
    r = api.get(f"{PREFIX}/lots-ext-01/hls/seg000.ts?t={token_of(uri)}", as_=None)  # also ref cam1, other system
    assert r.status_code == 401 and r.json()["reason"] == "camera_mismatch"
    r = api.get(f"{PREFIX}/saxe-int-02/hls/seg000.ts?t={token_of(uri)}", as_=None)  # same system and ref
    assert r.status_code == 401 and r.json()["reason"] == "camera_mismatch"
    assert api.origin.count("cam1/seg000.ts") == 0


def test_an_expired_token_is_401(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")  # TARGETDURATION 1: tokens live streams.token_min_seconds (60 s)
    api.clock.advance(timedelta(seconds=59))
    assert api.get(uris[0], as_=None).status_code == 200
    api.clock.advance(timedelta(seconds=1))
    r = api.get(uris[1], as_=None)
    assert r.status_code == 401 and r.json()["error"] == "invalid_stream_token" and r.json()["reason"] == "expired"
    assert api.origin.count("cam1/seg001.ts") == 0


@pytest.mark.parametrize("name", ["seg001.ts", "seg000.ts.jpg", "index.m3u8", "%2e%2e", "..%2fprivate", "seg000.TS"])
def test_a_name_not_matching_the_signed_ref_is_refused(api: Api, name: str) -> None:
    uri = api.playlist_uris("saxe-ext-01")[0]
    r = api.get(f"{PREFIX}/saxe-ext-01/hls/{name}?t={token_of(uri)}", as_=None)
    assert r.status_code in (401, 404, 422), r.text
    if r.status_code == 401:
        assert r.json()["reason"] == "name_mismatch"
    assert api.origin.count("cam1/seg000.ts") == 0 and api.origin.count(DECOY_PATH) == 0
    assert api.origin.count("cam1/seg001.ts") == 0


# -- decisions on the stream routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("camera", "reason"),
    [("saxe-int-01", "no_emergency"), ("saxe-res-01", "never_shared_zone"), ("saxe-new-01", "unclassified_camera")],
)
def test_denied_cameras_get_403_and_no_byte_from_the_origin(api: Api, camera: str, reason: str) -> None:
    for path in (f"{PREFIX}/{camera}/live.m3u8", f"{PREFIX}/{camera}/snapshot.jpg"):
        r = api.get(path)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "access_denied" and r.json()["reason"] == reason
    assert api.origin_total() == 0
    denials = api.audit(kind="decision", camera=camera, decision="deny")
    assert [(d["action"], d["reason"]) for d in denials] == [("live", reason), ("snapshot", reason)]


def test_an_agency_without_an_mou_is_denied_no_mou(api: Api) -> None:
    r = api.live("saxe-ext-01", as_="fire")
    assert r.status_code == 403 and r.json()["reason"] == "no_mou"
    assert api.origin_total() == 0


def test_interior_streams_during_an_emergency_and_stops_at_the_next_segment_after_the_end(api: Api) -> None:
    assert api.live("saxe-int-01").status_code == 403
    em = api.declared()
    uris = api.playlist_uris("saxe-int-01")
    first = api.get(uris[0], as_=None)
    assert first.status_code == 200 and first.content == segment_bytes(api, "cam2", "seg000.ts")
    snap = api.get(f"{PREFIX}/saxe-int-01/snapshot.jpg")
    assert snap.status_code == 200 and snap.content.startswith(b"\xff\xd8")
    assert api.end(em["id"]).status_code == 200
    # The token of uris[1] is still valid (the clock has not moved): the PDP says no.
    r = api.get(uris[1], as_=None)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "access_denied" and r.json()["reason"] == "no_emergency"
    assert api.origin.count("cam2/seg001.ts") == 0
    # The cut-off is on the audit chain: the denial during the segment and the session's end.
    (end,) = api.audit(kind="session.end", camera="saxe-int-01")
    assert end["reason"] == "access_revoked:no_emergency" and end["emergency"] == em["id"]
    assert end["details"]["requests"] == 2  # the playlist and the first segment; not the refused one
    denial = api.audit(kind="decision", camera="saxe-int-01", decision="deny")[-1]
    assert denial["details"]["during"] == "segment"


def test_interior_stream_stops_when_the_emergency_expires(api: Api) -> None:
    api.declared(duration_minutes=1)
    uris = api.playlist_uris("saxe-int-01")
    api.clock.advance(timedelta(seconds=59))
    assert api.live("saxe-int-01").status_code == 200
    api.clock.advance(timedelta(seconds=1))
    assert api.live("saxe-int-01").status_code == 403
    assert api.get(uris[0], as_=None).status_code in (401, 403)  # expired token or expired emergency


def test_snapshot(api: Api) -> None:
    r = api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg" and r.headers["cache-control"] == "no-store"
    assert r.content[:2] == b"\xff\xd8"
    assert r.content == segment_bytes(api, "cam1", "snapshot.jpg")
    (rec,) = api.audit(kind="decision", camera="saxe-ext-01")
    assert (rec["action"], rec["allowed"], rec["grant"]) == ("snapshot", True, "G1")


def test_unknown_camera_is_404(api: Api) -> None:
    for path in (f"{PREFIX}/no-such-cam/live.m3u8", f"{PREFIX}/no-such-cam/snapshot.jpg"):
        r = api.get(path)
        assert r.status_code == 404, r.text
        assert r.json()["error"] == "unknown_camera" and r.json()["reason"] == "unknown_camera"
    assert api.origin_total() == 0


# -- upstream failures --------------------------------------------------------------------------------------


HOSTILE = [
    "encoded_dotdot", "dotdot", "absolute_path", "other_host", "other_port", "userinfo", "file_uri", "not_playlist",
    "map_dotdot", "key_other_host", "absurd_target_duration", "bare_cr", "huge",
]  # fmt: skip


def test_a_hostile_playlist_is_502_and_nothing_leaks(api: Api, subtests: pytest.Subtests) -> None:
    for kind in HOSTILE:
        with subtests.test(kind=kind):
            api.origin.serve_hostile("cam1/index.m3u8", kind)
            api.clock.advance(timedelta(seconds=1))  # past playlist_ttl_seconds: fetch again
            r = api.live("saxe-ext-01")
            assert r.status_code == 502, r.text
            # A huge playlist is cut off by the adapter's size cap before it is parsed.
            assert r.json()["error"] == ("upstream_error" if kind == "huge" else "hostile_playlist")
            assert_nothing_upstream_leaks(api, r)
            for word in ("evil.example", "private", "passwd", "user:pw"):
                assert word not in r.text
    assert api.origin.count(DECOY_PATH) == 0
    assert api.origin.count("cam1/index.m3u8") == len(HOSTILE)
    # The full reason is kept for the operators, on the audit chain.
    refused = api.audit(kind="upstream.refused", camera="saxe-ext-01")
    assert len(refused) == len(HOSTILE) - 1  # all but the oversized one, refused by the adapter's cap
    assert all(r["principal_sub"] == "officer-17" and r["details"]["why"] for r in refused)


def test_a_hostile_variant_playlist_is_502(api: Api) -> None:
    variants = api.playlist_uris("saxe-ext-03")
    api.origin.serve_hostile("cam2/index.m3u8", "dotdot")
    r = api.get(variants[1], as_=None)
    assert r.status_code == 502 and r.json()["error"] == "hostile_playlist"
    assert_nothing_upstream_leaks(api, r)
    assert api.origin.count(DECOY_PATH) == 0


def test_origin_errors_are_502(api: Api, subtests: pytest.Subtests) -> None:
    for status in (500, 404, 401, 403, 302, 204):
        with subtests.test(status=status):
            api.origin.fail("cam1/index.m3u8", status=status)
            r = api.live("saxe-ext-01")
            assert r.status_code == 502, r.text
            if status in (401, 403):  # the broker's credentials refused (AuthFailed): its operators must fix them
                assert r.json()["error"] == "upstream_auth" and "credentials" in r.json()["message"], r.text
            else:
                assert r.json()["error"] == "upstream_error" and r.json()["upstream_status"] == status
            assert_nothing_upstream_leaks(api, r)


def test_a_failing_segment_is_502_and_is_not_cached(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")
    api.origin.fail("cam1/seg001.ts", status=500)
    r = api.get(uris[1], as_=None)
    assert r.status_code == 502 and r.json()["error"] == "upstream_error"
    api.origin.reset()
    r = api.get(uris[1], as_=None)
    assert r.status_code == 200 and r.content == segment_bytes(api, "cam1", "seg001.ts")


def test_snapshot_errors_are_502(api: Api) -> None:
    api.origin.fail("cam1/snapshot.jpg", status=503)
    assert api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg").json()["error"] == "upstream_error"
    api.origin.reset()
    api.origin.override("cam1/snapshot.jpg", b"<html>not a jpeg</html>", content_type="image/jpeg")
    r = api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg")
    assert r.status_code == 502 and r.json()["error"] == "upstream_error"
    assert "html" not in r.text


def test_what_a_system_cannot_do_at_all_is_501_saying_what_to_ask_for(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_supported(camera_ref: str) -> Fetched:
        raise NotSupported(f"no such thing for {camera_ref}")  # e.g. an evidence folder: recorded clips only

    adapter = api.services.pool.get("ncps-vms")
    monkeypatch.setattr(adapter, "live_playlist", not_supported)
    monkeypatch.setattr(adapter, "snapshot", not_supported)
    for path, code in (("live.m3u8", "live_unsupported"), ("snapshot.jpg", "snapshot_unsupported")):
        r = api.get(f"{PREFIX}/saxe-ext-01/{path}")
        assert r.status_code == 501 and r.json()["error"] == code, r.text
        assert "ask for playback.m3u8 instead" in r.json()["message"] and "cam1" not in r.text
    # Decided first, as any request: who may not watch learns nothing about the system.
    assert api.get(f"{PREFIX}/saxe-int-01/live.m3u8").json()["reason"] == "no_emergency"


def test_origin_down_is_502(api: Api) -> None:
    for path in (f"{PREFIX}/saxe-dead-01/live.m3u8", f"{PREFIX}/saxe-dead-01/snapshot.jpg"):
        r = api.get(path)
        assert r.status_code == 502, r.text
        assert r.json()["error"] == "upstream_error"
        assert "127.0.0.1" not in r.text


def test_a_camera_without_a_system_is_502(api: Api) -> None:
    r = api.live("saxe-nosys-01")
    assert r.status_code == 502 and r.json()["error"] == "upstream_error"


def test_a_slow_origin_is_504(api: Api) -> None:
    # The slow system has timeout_seconds: 0.5 in the inventory; the origin would take 3 s.
    api.origin.slow("cam1/index.m3u8", 3.0)
    r = api.live("saxe-slow-01")
    assert r.status_code == 504, r.text
    assert r.json()["error"] == "upstream_timeout"


def test_a_dripping_segment_is_504(api: Api) -> None:
    uris = api.playlist_uris("saxe-slow-01")
    api.origin.slow("cam1/seg003.ts", 3.0, drip=True)
    r = api.get(uris[3], as_=None)
    assert r.status_code == 504 and r.json()["error"] == "upstream_timeout"


def test_reloads_within_a_session_are_decided_every_time_and_recorded_once(api: Api) -> None:
    """One decision + session.start when viewing begins; reloads and segments are summarised in session.end."""
    for _ in range(5):
        uris = api.playlist_uris("saxe-ext-01")
        assert api.get(uris[0], as_=None).status_code == 200
    decisions = api.audit(kind="decision", camera="saxe-ext-01")
    assert [(d["allowed"], d["details"]["during"]) for d in decisions] == [(True, "playlist")]
    assert len(api.audit(kind="session.start", camera="saxe-ext-01")) == 1
    api.clock.advance(timedelta(seconds=31))
    api.services.tick()
    (end,) = api.audit(kind="session.end", camera="saxe-ext-01")
    assert end["reason"] == "idle" and end["details"]["requests"] == 10  # 5 playlists + 5 segments


def test_a_reload_after_the_emergency_ends_is_a_recorded_denial_that_ends_the_session(api: Api) -> None:
    em = api.declared()
    assert api.live("saxe-int-01").status_code == 200
    assert api.end(em["id"]).status_code == 200
    r = api.live("saxe-int-01")
    assert r.status_code == 403 and r.json()["reason"] == "no_emergency"
    (end,) = api.audit(kind="session.end", camera="saxe-int-01")
    assert end["reason"] == "access_revoked:no_emergency"
    assert api.audit(kind="decision", camera="saxe-int-01", decision="deny")[-1]["details"]["during"] == "playlist"


def test_concurrent_first_requests_start_one_session(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from broker.policy import Principal

    proxy, officer = api.services.proxy, Principal.of("kim", "ncpd", ["officer"])
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: proxy._admit(officer, "saxe-ext-01", "live", "127.0.0.1", "playlist"), range(16)))
    assert len(api.audit(kind="session.start", camera="saxe-ext-01")) == 1

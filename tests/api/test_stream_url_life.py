"""How long the stream URLs in a rewritten playlist live (issue 13 items 7 and 8), on the injected clock.

Live segment URLs live ``max(streams.token_min_seconds, token_target_durations x target duration)``, so a player
that falls behind still fetches the segments of the playlist it read; a master playlist's variant URLs live as
long as the viewer's credential. No URL outlives the credential, and every request is still decided anew.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from tests.api.support import INVENTORY, MOUS, PREFIX, Api, free_port_url
from tests.fakes.hls_origin import FakeHlsOrigin
from tests.paths import MODEL

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]
# An interior camera served as a master playlist (variants cam1 and cam2): decided under an emergency only.
INTERIOR_MASTER = (
    "  - {id: saxe-int-03, name: Gym office (multi-bitrate), site: ncps-saxe, building: gym, zone: interior, "
    "system: ncps-vms, ref: multi}\n"
)


def uris(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [line for line in r.text.splitlines() if line and not line.startswith("#")]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_live_segment_urls_outlive_a_player_that_falls_behind(api: Api) -> None:
    """TARGETDURATION 1: the old life (two target durations, 2 s) refused a player 3.8 s behind."""
    segments = api.playlist_uris("saxe-ext-01")
    fetched = api.clock.now()
    for seconds, uri in zip((3.8, 15, 30, 59), segments, strict=True):  # each fetched this long after the playlist
        api.clock.set(fetched + timedelta(seconds=seconds))
        r = api.get(uri, as_=None)
        assert r.status_code == 200, (seconds, r.text)
    api.clock.set(fetched + timedelta(seconds=60))
    r = api.get(segments[0], as_=None)
    assert r.status_code == 401 and r.json()["reason"] == "expired"


def test_the_floor_and_the_target_durations_are_settings(make_api: MakeApi) -> None:
    with make_api(streams={"token_min_seconds": 5, "token_target_durations": 3}) as api:
        segment = api.playlist_uris("saxe-ext-01")[0]  # max(5 s, 3 x 1 s) = 5 s
        api.clock.advance(4)
        assert api.get(segment, as_=None).status_code == 200
        api.clock.advance(1)
        assert api.get(segment, as_=None).json()["reason"] == "expired"


def test_stream_urls_never_outlive_the_viewers_token(api: Api) -> None:
    token = api.token("officer", ttl=timedelta(seconds=30))
    segment = uris(api.client.get(f"{PREFIX}/saxe-ext-01/live.m3u8", headers=bearer(token)))[0]
    api.clock.advance(29)
    assert api.get(segment, as_=None).status_code == 200
    api.clock.advance(1)
    r = api.get(segment, as_=None)
    assert r.status_code == 401 and r.json()["reason"] == "expired"


def test_master_variant_urls_live_as_long_as_the_session(api: Api) -> None:
    token = api.token("officer", ttl=timedelta(hours=2))
    variants = uris(api.client.get(f"{PREFIX}/saxe-ext-03/live.m3u8", headers=bearer(token)))
    assert len(variants) == 2
    fetched = api.clock.now()
    for later in (13, 600, 3600, 7199):  # a master has no target duration: the old life fell back to 12 s
        api.clock.set(fetched + timedelta(seconds=later))
        segments = uris(api.get(variants[1], as_=None))  # reloaded as a player does: decided and rewritten
        assert api.get(segments[0], as_=None).status_code == 200, later
    api.clock.set(fetched + timedelta(hours=2))  # the bearer token's exp: the session is over
    r = api.get(variants[1], as_=None)
    assert r.status_code == 401 and r.json()["reason"] == "expired"


def test_master_variant_urls_are_decided_on_every_request(
    make_api: MakeApi, tmp_path: Path, origin: FakeHlsOrigin
) -> None:
    inventory = tmp_path / "inventory-master.yaml"
    inventory.write_text(INVENTORY.format(base=origin.base_url, dead=free_port_url()) + INTERIOR_MASTER)
    with make_api(policy={"inventory": inventory, "mous": [MOUS], "model": MODEL}) as api:
        assert api.live("saxe-int-03").status_code == 403
        em = api.declared()
        variants = api.playlist_uris("saxe-int-03")
        api.clock.advance(300)
        assert api.get(uris(api.get(variants[0], as_=None))[0], as_=None).status_code == 200
        assert api.end(em["id"]).status_code == 200
        for _ in range(2):  # alive as a URL, refused by the PDP: now and later
            r = api.get(variants[0], as_=None)
            assert r.status_code == 403 and r.json()["reason"] == "no_emergency", r.text
            api.clock.advance(600)

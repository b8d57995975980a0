"""Hostile playlists served by a real origin are refused before any escape reaches the network."""

from __future__ import annotations

import asyncio

import pytest

from adapters.hls import HlsAdapter
from broker.adapterapi import AdapterError, SystemSpec
from broker.enforcement.playlist import rewrite_playlist
from broker.errors import HostilePlaylist
from tests.fakes.hls_origin import DECOY_PATH, FakeHlsOrigin
from tests.fakes.hostile import HOSTILE_KINDS


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_playlist_refused(hls_origin: FakeHlsOrigin, kind: str) -> None:
    hls_origin.serve_hostile("cam1/index.m3u8", kind)
    spec = SystemSpec(id="district", adapter="hls", base_url=hls_origin.base_url, settings={})

    async def main() -> None:
        adapter = HlsAdapter(spec)
        try:
            playlist = await adapter.live_playlist("cam1")
            rewritten = rewrite_playlist(
                playlist.body, base_ref=playlist.ref, resolve=adapter.resolve, sign=lambda ref: "/s/" + ref
            )
            for ref in rewritten.refs:  # what a broker would fetch next, were anything let through
                await adapter.resource(ref)
        finally:
            await adapter.aclose()

    with pytest.raises((HostilePlaylist, AdapterError)) as info:
        asyncio.run(main())
    if kind == "huge":
        assert isinstance(info.value, AdapterError) and "cap" in str(info.value)
    else:
        assert isinstance(info.value, HostilePlaylist), info.value
    assert hls_origin.requests[DECOY_PATH] == 0
    assert set(hls_origin.requests) == {"/hls/cam1/index.m3u8"}

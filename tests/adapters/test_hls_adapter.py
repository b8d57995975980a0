"""The HLS adapter against the fake origin over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from adapters.hls import HlsAdapter
from broker.adapterapi import AdapterError, AuthFailed, CameraSystemAdapter, Fetched, SystemSpec
from broker.enforcement.playlist import rewrite_playlist
from tests.fakes.hls_origin import DECOY_PATH, FakeHlsOrigin, OriginContent

T = TypeVar("T")
PASSWORD_ENV = "CAMGATE_TEST_ORIGIN_PASSWORD"


def adapter_for(base_url: str, **settings: Any) -> HlsAdapter:
    return HlsAdapter(SystemSpec(id="district", adapter="hls", base_url=base_url, settings=settings))


def run(adapter: HlsAdapter, use: Callable[[HlsAdapter], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await use(adapter)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def fails(adapter: HlsAdapter, use: Callable[[HlsAdapter], Awaitable[Any]]) -> AdapterError:
    with pytest.raises(AdapterError) as info:
        run(adapter, use)
    return info.value


def test_live_playlist_resource_and_snapshot(hls_origin: FakeHlsOrigin, hls_content: OriginContent) -> None:
    adapter = adapter_for(hls_origin.base_url)
    assert isinstance(adapter, CameraSystemAdapter)

    async def use(a: HlsAdapter) -> tuple[Fetched, Fetched, Fetched]:
        playlist = await a.live_playlist("cam1")
        segment = await a.resource(a.resolve(playlist.ref, "seg000.ts"))
        return playlist, segment, await a.snapshot("cam1")

    playlist, segment, snapshot = run(adapter, use)
    assert playlist.ref == "cam1/index.m3u8"
    assert playlist.content_type == "application/vnd.apple.mpegurl"
    assert playlist.body == (hls_content.root / "cam1/index.m3u8").read_bytes()
    assert segment.ref == "cam1/seg000.ts"
    assert segment.body == (hls_content.root / "cam1/seg000.ts").read_bytes()
    assert segment.body[0] == 0x47  # MPEG-TS sync byte
    assert snapshot.content_type == "image/jpeg" and snapshot.body.startswith(b"\xff\xd8\xff")
    assert hls_origin.count("cam1/seg000.ts") == 1


def test_master_and_media_playlists_rewrite_and_every_ref_fetches(
    hls_origin: FakeHlsOrigin, hls_content: OriginContent
) -> None:
    adapter = adapter_for(hls_origin.base_url, live_path="{ref}/index.m3u8")

    async def use(a: HlsAdapter) -> dict[str, bytes]:
        fetched: dict[str, bytes] = {}
        master = await a.live_playlist("multi")
        top = rewrite_playlist(master.body, base_ref=master.ref, resolve=a.resolve, sign=lambda r: "/s/" + r)
        assert top.is_master and top.refs == ("cam1/index.m3u8", "cam2/index.m3u8")
        for variant in top.refs:
            media = await a.resource(variant)
            rewritten = rewrite_playlist(media.body, base_ref=variant, resolve=a.resolve, sign=lambda r: "/s/" + r)
            assert rewritten.target_duration == 1.0 and not rewritten.is_master
            for ref in rewritten.refs:
                fetched[ref] = (await a.resource(ref)).body
        return fetched

    fetched = run(adapter, use)
    assert len(fetched) == 8
    for ref, body in fetched.items():
        assert body == (hls_content.root / ref).read_bytes()


@pytest.mark.parametrize(
    ("scheme", "algorithms"),
    [("basic", ("SHA-256",)), ("digest", ("SHA-256",)), ("digest", ("MD5",)), ("digest", ("SHA-256", "MD5"))],
)
def test_auth_right_and_wrong_password(
    hls_origin: FakeHlsOrigin, monkeypatch: pytest.MonkeyPatch, scheme: str, algorithms: tuple[str, ...]
) -> None:
    hls_origin.require_auth(scheme, username="camgate", password="right", algorithms=algorithms)  # type: ignore[arg-type]
    auth = {"type": scheme, "username": "camgate", "password_env": PASSWORD_ENV}

    monkeypatch.setenv(PASSWORD_ENV, "right")

    async def use(a: HlsAdapter) -> list[Fetched]:
        return [await a.live_playlist("cam1"), await a.resource("cam1/seg001.ts"), await a.resource("cam1/seg002.ts")]

    assert [f.ref for f in run(adapter_for(hls_origin.base_url, auth=auth), use)][-1] == "cam1/seg002.ts"

    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    error = fails(adapter_for(hls_origin.base_url, auth=auth), lambda a: a.live_playlist("cam1"))
    assert isinstance(error, AuthFailed) and error.status == 401 and not error.timeout  # 502 upstream_auth
    assert f"user 'camgate' (HTTP 401); check auth.username and the password in '{PASSWORD_ENV}'" in str(error)
    assert hls_origin.count("cam1/index.m3u8") == 1  # only the right password got the body

    error = fails(adapter_for(hls_origin.base_url), lambda a: a.live_playlist("cam1"))  # no credentials at all
    assert isinstance(error, AuthFailed) and error.status == 401 and "set auth with a username" in str(error)


def test_upstream_errors_map_to_adapter_error(hls_origin: FakeHlsOrigin) -> None:
    assert fails(adapter_for(hls_origin.base_url), lambda a: a.resource("cam1/nope.ts")).status == 404
    hls_origin.fail("cam1/seg001.ts", status=500)
    assert fails(adapter_for(hls_origin.base_url), lambda a: a.resource("cam1/seg001.ts")).status == 500
    hls_origin.override("cam1/seg002.ts", b"", status=302, headers={"location": "http://evil.example/"})
    assert fails(adapter_for(hls_origin.base_url), lambda a: a.resource("cam1/seg002.ts")).status == 302


@pytest.mark.parametrize("drip", [False, True], ids=["slow-headers", "slow-drip-body"])
def test_timeout(hls_origin: FakeHlsOrigin, drip: bool) -> None:
    hls_origin.slow("cam1/seg001.ts", 3.0, drip=drip)
    error = fails(adapter_for(hls_origin.base_url, timeout_seconds=0.3), lambda a: a.resource("cam1/seg001.ts"))
    assert error.timeout and error.status is None
    assert "0.3s" in str(error)


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = fails(adapter_for(f"http://127.0.0.1:{port}/hls/"), lambda a: a.resource("cam1/seg000.ts"))
    assert error.status is None and not error.timeout
    assert "ConnectError" in str(error)


def test_size_caps(hls_origin: FakeHlsOrigin) -> None:
    error = fails(adapter_for(hls_origin.base_url, max_segment_bytes=1000), lambda a: a.resource("cam1/seg000.ts"))
    assert "declared, over the 1000-byte cap" in str(error)
    hls_origin.slow("cam1/seg000.ts", 0.0, drip=True)  # chunked: no Content-Length, cap while streaming
    error = fails(adapter_for(hls_origin.base_url, max_segment_bytes=1000), lambda a: a.resource("cam1/seg000.ts"))
    assert "body over the 1000-byte cap" in str(error)
    error = fails(adapter_for(hls_origin.base_url, max_playlist_bytes=50), lambda a: a.live_playlist("cam1"))
    assert "50-byte cap" in str(error)
    hls_origin.serve_hostile("cam1/index.m3u8", "huge")  # > 1 MiB default playlist cap
    assert "cap" in str(fails(adapter_for(hls_origin.base_url), lambda a: a.live_playlist("cam1")))


def test_snapshot_must_be_jpeg(hls_origin: FakeHlsOrigin) -> None:
    hls_origin.override("cam1/snapshot.jpg", b"<html>login</html>", content_type="image/jpeg")
    assert "not a JPEG" in str(fails(adapter_for(hls_origin.base_url), lambda a: a.snapshot("cam1")))


@pytest.mark.parametrize(
    "ref",
    ["", "/private/secret.txt", "../private/secret.txt", "cam1/../../private/secret.txt", "%2e%2e/private/secret.txt",
     "cam1/./seg000.ts", "cam1//seg000.ts", "http://127.0.0.1/hls/cam1/seg000.ts", "cam1\\seg000.ts",
     "cam1/seg000.ts#frag"],
)  # fmt: skip
def test_resource_refuses_non_canonical_refs(hls_origin: FakeHlsOrigin, ref: str) -> None:
    error = fails(adapter_for(hls_origin.base_url), lambda a: a.resource(ref))
    assert "refused" in str(error)
    assert hls_origin.requests.total() == 0


@pytest.mark.parametrize("camera_ref", ["../private", "cam1/..", "/cam1", "cam1/", "", "cam 1", "{ref}"])
def test_camera_refs_are_plain_paths(hls_origin: FakeHlsOrigin, camera_ref: str) -> None:
    fails(adapter_for(hls_origin.base_url), lambda a: a.live_playlist(camera_ref))
    assert hls_origin.requests.total() == 0


def test_concurrent_requests_share_the_pool(hls_origin: FakeHlsOrigin, hls_content: OriginContent) -> None:
    async def use(a: HlsAdapter) -> list[Fetched]:
        refs = [f"cam{1 + i % 2}/{seg}" for i in range(40) for seg in hls_content.segments("cam1")[:1]]
        return await asyncio.gather(*(a.resource(ref) for ref in refs))

    assert len(run(adapter_for(hls_origin.base_url), use)) == 40
    assert hls_origin.served[DECOY_PATH] == 0

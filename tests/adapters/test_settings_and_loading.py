"""Settings validation, load_adapter and AdapterPool."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters import ADAPTERS
from adapters.hls import HlsAdapter
from broker.adapterapi import AdapterConfigError, SystemSpec
from broker.inventory.adapters import AdapterPool, close_adapters, load_adapter

BASE = "http://cams.example/hls/"


def spec(system_id: str = "district", adapter: str = "hls", base_url: str | None = BASE, **settings: Any) -> SystemSpec:
    return SystemSpec(id=system_id, adapter=adapter, base_url=base_url, settings=settings)


def test_registry_and_defaults() -> None:
    assert ADAPTERS == {
        "hls": "adapters.hls:HlsAdapter",
        "onvif": "adapters.onvif:OnvifAdapter",
        "evidence": "adapters.evidence:EvidenceAdapter",
        "axis": "adapters.axis:AxisAdapter",
        "hikvision": "adapters.hikvision:HikvisionAdapter",
        "rtsp": "adapters.rtsp:RtspAdapter",
    }
    adapter = load_adapter(spec())
    assert isinstance(adapter, HlsAdapter)
    s = adapter.settings
    assert (s.live_path, s.snapshot_path, s.auth, s.timeout_seconds) == (
        "{ref}/index.m3u8",
        "{ref}/snapshot.jpg",
        None,
        5,
    )
    assert (s.max_playlist_bytes, s.max_segment_bytes, s.verify_tls) == (1 << 20, 32 << 20, True)
    asyncio.run(adapter.aclose())


def test_unknown_adapter_lists_known_ones() -> None:
    known = ", ".join(sorted(ADAPTERS))  # evidence, hls, ...
    with pytest.raises(
        AdapterConfigError,
        match=f"system 'district': setting 'adapter': unknown adapter 'genetec'; known adapters: {known}$",
    ):
        load_adapter(spec(adapter="genetec"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"live_pth": "x"}, "'live_pth'"),
        ({"timeout_seconds": 0}, "'timeout_seconds'"),
        ({"timeout_seconds": "soon"}, "'timeout_seconds'"),
        ({"max_segment_bytes": -1}, "'max_segment_bytes'"),
        ({"verify_tls": "yes"}, "'verify_tls'"),
        ({"live_path": "index.m3u8"}, "'live_path'"),
        ({"snapshot_path": "/{ref}.jpg"}, "'snapshot_path'"),
        ({"live_path": "{ref}/{0.__class__}.m3u8"}, "'live_path'"),
        ({"auth": {"type": "ntlm", "username": "u", "password_env": "X"}}, "'auth.type'"),
        ({"auth": {"type": "basic", "username": "u", "password": "inline"}}, "'auth.password"),
        (
            {"auth": {"type": "basic", "username": "u", "password_env": "CAMGATE_SURELY_UNSET_VAR"}},
            "'auth.password_env'",
        ),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(AdapterConfigError) as info:
        load_adapter(spec(**settings))
    assert message in str(info.value) and "system 'district'" in str(info.value)


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (None, "required"),
        ("ftp://cams.example/", "http:// or https://"),
        ("http://user:pw@cams.example/hls/", "credentials belong in 'auth'"),
        ("http://cams.example/hls/?a=1", "query"),
        ("http://cams.example/a/../hls/", "normalised"),
        ("http://cams.example:http/", "base_url"),
    ],
)
def test_bad_base_url(base_url: str | None, message: str) -> None:
    with pytest.raises(AdapterConfigError, match="base_url") as info:
        HlsAdapter(spec(base_url=base_url))
    assert message in str(info.value)


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMGATE_TEST_PW", "s3cret")
    adapter = HlsAdapter(spec(auth={"type": "digest", "username": "u", "password_env": "CAMGATE_TEST_PW"}))
    assert "s3cret" not in repr(adapter) and "s3cret" not in repr(adapter.settings)
    asyncio.run(adapter.aclose())
    monkeypatch.setenv("CAMGATE_TEST_PW", "")
    with pytest.raises(AdapterConfigError, match=r"'auth\.password_env'.*CAMGATE_TEST_PW"):
        HlsAdapter(spec(auth={"type": "digest", "username": "u", "password_env": "CAMGATE_TEST_PW"}))


def test_pool_holds_one_adapter_per_system() -> None:
    pool = AdapterPool([spec("a"), spec("b", base_url="http://other.example/")])
    assert len(pool) == 2 and "a" in pool and list(pool) == ["a", "b"]
    assert pool.get("a") is pool.get("a") and pool.get("a") is not pool.get("b")
    with pytest.raises(KeyError, match="'c'"):
        pool.get("c")
    asyncio.run(pool.aclose())
    asyncio.run(pool.aclose())  # idempotent
    assert len(pool) == 0


def test_pool_refuses_duplicates_and_bad_systems() -> None:
    with pytest.raises(AdapterConfigError, match="'a': duplicate"):
        AdapterPool([spec("a"), spec("a")])
    with pytest.raises(AdapterConfigError, match=r"system 'b'.*'live_pth'"):
        AdapterPool([spec("a"), spec("b", live_pth="x")])


def test_pool_aclose_closes_every_adapter() -> None:
    closed: list[str] = []

    class Stub:
        def __init__(self, s: SystemSpec) -> None:
            self.spec = s

        async def aclose(self) -> None:
            closed.append(self.spec.id)
            if self.spec.id == "a":
                raise RuntimeError("boom")

    pool = AdapterPool([spec("a"), spec("b")], loader=Stub)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(pool.aclose())
    assert sorted(closed) == ["a", "b"]


def test_pool_prepare_and_install_keep_unchanged_systems_and_retire_the_rest() -> None:
    pool = AdapterPool([spec("a"), spec("b"), spec("c")])
    a, b, c = pool.get("a"), pool.get("b"), pool.get("c")
    prepared = pool.prepare([spec("a"), spec("b", timeout_seconds=3), spec("d")])  # b changed, c gone, d new
    assert pool.get("b") is b and "d" not in pool  # nothing installed yet
    with pytest.raises(AdapterConfigError, match="'e'"):
        pool.prepare([spec("a"), spec("e", live_pth="x")])  # a bad system refuses the whole set
    retired = pool.install(prepared)
    assert pool.get("a") is a and pool.get("b") is not b and "c" not in pool and "d" in pool
    assert {id(x) for x in retired} == {id(b), id(c)}
    asyncio.run(close_adapters(retired))
    asyncio.run(pool.aclose())

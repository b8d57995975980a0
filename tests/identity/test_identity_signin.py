"""Sign-in settings of an issuer, the sign-in state cache (one use), console.origin."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from broker.clock import FakeClock
from broker.errors import ConfigError
from broker.identity.config import IssuerConfig
from broker.identity.oidc import LoginCache, SignIn
from broker.settings import load_settings
from broker.store import Store
from broker.store.console import ConsoleRepository

JWKS_URI = "https://idp.example/jwks"


def issuer(**signin: Any) -> IssuerConfig:
    return IssuerConfig(issuer="https://idp.example", audience="camgate", jwks_uri=JWKS_URI, signin=signin)


def test_signin_settings() -> None:
    config = issuer(client_id="camgate-console")
    assert config.discovery_url() == "https://idp.example/.well-known/openid-configuration"  # OIDC Discovery §4
    assert issuer(client_id="c", discovery_url="http://127.0.0.1:9/x").discovery_url() == "http://127.0.0.1:9/x"
    for bad in ({"client_id": "c", "scope": "profile"}, {"client_id": "c", "discovery_url": "http://idp.example/"},
                {"client_id": ""}, {"client_id": "c", "unknown": 1}):  # fmt: skip
        with pytest.raises(ValidationError):
            issuer(**bad)


def test_a_confidential_client_needs_its_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = ConsoleRepository(Store.open(f"sqlite:///{tmp_path / 'c.db'}"))
    cache = LoginCache(repo, FakeClock())
    monkeypatch.delenv("CAMGATE_TEST_IDP_SECRET", raising=False)
    with pytest.raises(ConfigError, match="CAMGATE_TEST_IDP_SECRET"):
        SignIn([issuer(client_id="c", client_secret_env="CAMGATE_TEST_IDP_SECRET")], cache)
    monkeypatch.setenv("CAMGATE_TEST_IDP_SECRET", "s3cret")
    assert [
        i.issuer for i in SignIn([issuer(client_id="c", client_secret_env="CAMGATE_TEST_IDP_SECRET")], cache).issuers()
    ]


def test_the_login_cache_gives_a_state_once_and_forgets_it_when_stale(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    store.create_all()
    clock = FakeClock()
    cache = LoginCache(ConsoleRepository(store), clock)

    async def run() -> None:
        await cache.set("_state_x_abc", '{"data": {"code_verifier": "v"}}', 3600)
        assert await cache.get("_state_x_abc") == '{"data": {"code_verifier": "v"}}'
        assert await cache.get("_state_x_abc") is None  # taken: a replayed state finds nothing
        await cache.set("_state_x_def", "{}", 3600)
        clock.advance(timedelta(minutes=11))  # a sign-in must come back within 10 minutes, whatever authlib asks
        assert await cache.get("_state_x_def") is None

    asyncio.run(run())


def test_console_origin_is_an_origin() -> None:
    assert load_settings(mode="dev", console={"origin": "https://camgate.example/"}).console.origin == (
        "https://camgate.example"
    )
    for bad in ("camgate.example", "https://camgate.example/console", "ftp://camgate.example"):
        with pytest.raises(ConfigError, match=r"console\.origin"):
            load_settings(mode="dev", console={"origin": bad})

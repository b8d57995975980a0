"""Discovery rigs: camera systems that list their cameras, for the inventory sync and health tests.

The sync tests never name an adapter: they take the ``discovery_rig`` fixture, parametrized over
:data:`RIGS`. A rig is a running fake of a vendor's system plus what the inventory needs to reach it::

    rig.system_entry("ncps-nvr", "ncps", sync_site="ncps-saxe")   # one flow-mapping line for `systems:`
    rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym")])      # what the system lists from now on
    rig.password_env, rig.password                               # the secret its settings read (set it)
    rig.adapter                                                  # the registry name

A vendor adapter that implements ``Discoverable`` (Axis, Hikvision, ONVIF) adds a factory to :data:`RIGS`
(a context manager yielding a :class:`DiscoveryRig` around its own fake server); every sync test then runs
against it too. The fixture puts the rig's password in the environment and the fake adapters in the registry.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from broker.adapterapi import SystemSpec
from tests.fakes.discovery import ADAPTER_NAME, FakeNvr, register


@dataclass
class DiscoveryRig:
    adapter: str
    base_url: str
    settings: dict[str, Any]  # beyond id/owner/adapter/base_url; secrets only through password_env
    password_env: str
    password: str
    set_cameras: Callable[[list[tuple[str, str]]], None]
    hang: Callable[[bool], None]  # the listing answers nothing while True
    malformed: Callable[[bool], None]  # the listing answers 200 with something that is not one while True
    server: Any  # the fake itself

    def spec(self, system_id: str = "nvr", **extra: Any) -> SystemSpec:
        return SystemSpec(system_id, self.adapter, self.base_url, {**self.settings, **extra})

    def system_entry(self, system_id: str, owner: str, **extra: Any) -> str:
        """The system's line in an inventory (a flow mapping, JSON-quoted values)."""
        import json

        keys = {"id": system_id, "owner": owner, "adapter": self.adapter, "base_url": self.base_url,
                **self.settings, **extra}  # fmt: skip
        return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in keys.items()) + "}"


@contextlib.contextmanager
def fake_nvr_rig() -> Iterator[DiscoveryRig]:
    password = f"nvr-{secrets.token_hex(12)}"
    env = "CAMGATE_TEST_NVR_PASSWORD"
    with FakeNvr(username="camgate", password=password) as nvr:
        settings = {"username": "camgate", "password_env": env, "timeout_seconds": 2}

        def hang(on: bool) -> None:
            nvr.hang = on

        def malformed(on: bool) -> None:
            nvr.malformed = on

        yield DiscoveryRig(ADAPTER_NAME, nvr.base_url, settings, env, password, nvr.set_cameras, hang, malformed, nvr)


RIGS: dict[str, Callable[[], AbstractContextManager[DiscoveryRig]]] = {"fake-nvr": fake_nvr_rig}


@pytest.fixture(params=sorted(RIGS))
def discovery_rig(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscoveryRig]:
    import adapters

    registry = dict(adapters.ADAPTERS)
    register(registry)
    monkeypatch.setattr(adapters, "ADAPTERS", registry)
    with RIGS[request.param]() as rig:
        monkeypatch.setenv(rig.password_env, rig.password)
        yield rig

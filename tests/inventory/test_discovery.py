"""Asking camera systems for their cameras over real HTTP (every discovery rig), and what a failure says."""

from __future__ import annotations

import asyncio
import time

import pytest

import adapters
from broker.adapterapi import SystemSpec
from broker.inventory.discovery import discover_all, discover_one, scrub, secret_values
from tests.fakes.discovery import register
from tests.fakes.discovery_rigs import DiscoveryRig, fake_nvr_rig, rigs_that


def run(rig: DiscoveryRig, timeout: float = 5.0, **extra: object):  # type: ignore[no-untyped-def]
    return asyncio.run(discover_one(rig.spec(**extra), timeout))


def test_lists_the_cameras(discovery_rig: DiscoveryRig) -> None:
    rig = discovery_rig
    rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym lobby")])
    result = run(rig)
    assert result.cameras is not None and [(c.ref, c.name) for c in result.cameras] == [
        (rig.ref("ch1"), rig.name("ch1", "Front door")), (rig.ref("ch2"), rig.name("ch2", "Gym lobby"))]  # fmt: skip
    assert (result.discoverable, result.reachable, result.authentication_ok, result.error) == (True, True, True, None)


@rigs_that("credentials")
def test_wrong_credentials_say_so(discovery_rig: DiscoveryRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(discovery_rig.password_env, "not-the-password")
    result = run(discovery_rig)
    assert result.cameras is None and (result.reachable, result.authentication_ok) == (True, False)
    assert result.error is not None and "refused the configured credentials" in result.error


@rigs_that("hang")
def test_a_hanging_system_times_out_alone(discovery_rig: DiscoveryRig) -> None:
    discovery_rig.set_cameras([("ch1", "Front door")])
    discovery_rig.hang(True)
    started = time.monotonic()
    slow, dead = asyncio.run(discover_all([discovery_rig.spec("slow"), discovery_rig.spec("dead", timeout_seconds=0.5)],
                                          timeout=1.0))  # fmt: skip
    assert time.monotonic() - started < 4
    assert slow.cameras is None and slow.reachable is False and slow.error == "no answer within 1 s"
    assert dead.cameras is None and dead.reachable is False and "no answer in time: " in (dead.error or "")


@rigs_that("malformed")
def test_a_malformed_listing_is_an_error(discovery_rig: DiscoveryRig) -> None:
    discovery_rig.malformed(True)
    result = run(discovery_rig)
    assert result.cameras is None and result.reachable is True and "answered badly" in (result.error or "")


@rigs_that("credentials")
def test_bad_settings_and_adapters_that_cannot_list(
    discovery_rig: DiscoveryRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(discovery_rig.password_env)
    result = run(discovery_rig)
    assert result.cameras is None and "is not set" in (result.error or "") and result.reachable is None
    hls = asyncio.run(discover_one(SystemSpec("vms", "hls", "http://127.0.0.1:1/", {}), 5))
    assert (hls.discoverable, hls.cameras, hls.error) == (False, None, None)


def test_a_careless_adapters_secret_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapters, "ADAPTERS", dict(adapters.ADAPTERS))
    register(adapters.ADAPTERS)
    with fake_nvr_rig() as rig:  # the fake adapter's leaky_errors: it puts the password in its messages
        monkeypatch.setenv(rig.password_env, rig.password)
        rig.server.auth.password = "changed-upstream"  # the system's password changed: ours is refused
        result = run(rig, leaky_errors=True)
    assert result.error is not None and "(password ***)" in result.error and rig.password not in result.error


def test_secret_values_and_scrub() -> None:
    env = {"A_PW": "hunter2-secret", "EMPTY": ""}
    settings = {"auth": {"username": "u", "password_env": "A_PW"}, "other_env": "EMPTY", "token": "inline-tok"}
    assert secret_values(settings, env) == {"hunter2-secret", "inline-tok"}
    message = "GET http://u:hunter2-secret@10.1.1.1/x failed; rtsp://admin:pw@cam/ch1 inline-tok\nnext"
    assert (
        scrub(message, {"hunter2-secret", "inline-tok"})
        == "GET http://***@10.1.1.1/x failed; rtsp://***@cam/ch1 *** next"
    )
    assert len(scrub("x" * 1000, set())) == 300

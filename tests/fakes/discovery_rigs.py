"""Discovery rigs: camera systems that list their cameras, for the inventory sync and health tests.

The sync tests never name an adapter: they take the ``discovery_rig`` fixture, parametrized over :data:`RIGS`
(the test-only fake NVR, the fake Axis camera, Hikvision NVR and ONVIF NVR, and an evidence folder). A rig is a
running fake of a vendor's system plus what the inventory needs to reach it. Scenarios speak of channels
``ch1``, ``ch2``, ``ch3``; each system numbers them its own way::

    rig.system_entry("ncps-nvr", "ncps", sync_site="ncps-saxe")   # one flow-mapping line for `systems:`
    rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym")])      # what the system lists from now on
    rig.ref("ch2"), rig.name("ch2", "Gym")                        # "201", "Gym": how the system lists it
    rig.password_env, rig.password                               # the secret its settings read (set it)
    rig.adapter                                                  # the registry name

Not every system can do everything a scenario asks; a test takes the rigs it applies to (:func:`rigs_that`):
``password_env`` None: no credentials (a folder); ``hang`` / ``malformed`` None: nothing that answers (a folder
skips a bad file, it does not fail); ``numbered``: cameras are 1..n (Axis image sources), so one can only be
added or removed at the end. The fixture puts the rig's password in the environment and the fake NVR's adapter
in the registry.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from broker.adapterapi import SystemSpec
from broker.inventory.merge import slug
from broker.inventory.yamledit import scalar
from tests.fakes.discovery import ADAPTER_NAME, FakeNvr, register

Switch = Callable[[bool], None]


@dataclass
class DiscoveryRig:
    adapter: str
    base_url: str | None
    settings: dict[str, Any]  # beyond id/owner/adapter/base_url; secrets only through password_env
    password_env: str | None  # None: the system has no credentials (an evidence folder)
    password: str | None
    set_cameras: Callable[[list[tuple[str, str]]], None]  # (channel, name): what the system lists from now on
    hang: Switch | None  # the listing answers nothing while True; None: nothing answers (a folder)
    malformed: Switch | None  # the listing answers 200 with something that is not one while True
    server: Any  # the fake itself
    refs: dict[str, str] = field(default_factory=dict)  # channel -> the system's ref (default: the channel)
    listed_as: Callable[[str, str], str] = lambda ref, name: name  # (ref, name set) -> the name the system lists
    numbered: bool = False  # cameras are 1..n: added or removed only at the end
    rtsp: bool = False  # an RTSP system: the broker serves it through its gateway

    def ref(self, channel: str) -> str:
        return self.refs.get(channel, channel)

    def yaml_ref(self, channel: str) -> str:
        """The ref as the inventory writes it (quoted when it would read back as a number)."""
        return scalar(self.ref(channel))

    def name(self, channel: str, name: str) -> str:
        return self.listed_as(self.ref(channel), name)

    def new_id(self, channel: str, system: str = "ncps-nvr") -> str:
        """The id inventory sync gives the camera when it appears (``<system>-<slug of its ref>``)."""
        return f"{system}-{slug(self.ref(channel))}"

    def spec(self, system_id: str = "nvr", **extra: Any) -> SystemSpec:
        return SystemSpec(system_id, self.adapter, self.base_url, {**self.settings, **extra})

    def system_entry(self, system_id: str, owner: str, **extra: Any) -> str:
        """The system's line in an inventory (a flow mapping, JSON-quoted values)."""
        keys = {"id": system_id, "owner": owner, "adapter": self.adapter, "base_url": self.base_url,
                **self.settings, **extra}  # fmt: skip
        return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in keys.items() if v is not None) + "}"


def _password(name: str) -> str:
    return f"{name}-{secrets.token_hex(10)}"


@contextlib.contextmanager
def fake_nvr_rig() -> Iterator[DiscoveryRig]:
    password, env = _password("nvr"), "CAMGATE_TEST_NVR_PASSWORD"
    with FakeNvr(username="camgate", password=password) as nvr:
        settings = {"username": "camgate", "password_env": env, "timeout_seconds": 2}

        def hang(on: bool) -> None:
            nvr.hang = on

        def malformed(on: bool) -> None:
            nvr.malformed = on

        yield DiscoveryRig(ADAPTER_NAME, nvr.base_url, settings, env, password, nvr.set_cameras, hang, malformed, nvr)


def _device_switches(device: Any) -> tuple[Switch, Switch]:
    """hang / malformed of a :class:`tests.fakes.device.FakeDeviceHttp`."""

    def switch(fault: str) -> Switch:
        return lambda on: setattr(device, "fault", fault if on else None)

    return switch("hang"), switch("malformed")


@contextlib.contextmanager
def axis_rig() -> Iterator[DiscoveryRig]:
    from tests.fakes.axis import FakeAxisCamera

    password, env = _password("axis"), "CAMGATE_TEST_AXIS_PASSWORD"
    refs = {"ch1": "1", "ch2": "2", "ch3": "3"}
    with tempfile.TemporaryDirectory() as tmp, FakeAxisCamera(Path(tmp), None, password=password) as camera:

        def set_cameras(cameras: list[tuple[str, str]]) -> None:
            numbers = [int(refs[channel]) for channel, _name in cameras]
            assert numbers == list(range(1, len(numbers) + 1)), f"an Axis device numbers its sources 1..n: {numbers}"
            camera.set_sources(tuple(name for _channel, name in cameras))

        settings = {"username": "camgate", "password_env": env, "timeout_seconds": 2}
        yield DiscoveryRig("axis", camera.base_url, settings, env, password, set_cameras, *_device_switches(camera),
                           camera, refs, numbered=True, rtsp=True)  # fmt: skip


@contextlib.contextmanager
def hikvision_rig() -> Iterator[DiscoveryRig]:
    from tests.fakes.hikvision import FakeHikvisionNvr

    password, env = _password("hik"), "CAMGATE_TEST_HIKVISION_PASSWORD"
    refs = {"ch1": "101", "ch2": "201", "ch3": "301"}  # channel n's main stream: n01 (ISAPI channel x 100 + 1)
    with tempfile.TemporaryDirectory() as tmp, FakeHikvisionNvr(Path(tmp), None, password=password) as nvr:

        def set_cameras(cameras: list[tuple[str, str]]) -> None:
            nvr.set_channels({int(refs[channel]) // 100: name for channel, name in cameras})

        settings = {"username": "camgate", "password_env": env, "timeout_seconds": 2}
        yield DiscoveryRig("hikvision", nvr.base_url, settings, env, password, set_cameras, *_device_switches(nvr),
                           nvr, refs, rtsp=True)  # fmt: skip


@contextlib.contextmanager
def onvif_rig() -> Iterator[DiscoveryRig]:
    from tests.fakes.onvif import FakeOnvifDevice

    password, env = _password("onvif"), "CAMGATE_TEST_ONVIF_PASSWORD"
    refs = {"ch1": "Profile_1", "ch2": "Profile_2", "ch3": "Profile_3"}  # one H.264 profile per video source
    with FakeOnvifDevice(rtsp_port=9, jpegs={}, username="camgate", password=password) as device:

        def set_cameras(cameras: list[tuple[str, str]]) -> None:
            device.set_cameras([(refs[channel], name) for channel, name in cameras])

        def hang(on: bool) -> None:
            device.reset()  # ends the waits of requests still hanging
            device.hang = {"*"} if on else set()

        def malformed(on: bool) -> None:
            device.reset()
            device.malformed = {"GetProfiles": "truncated"} if on else {}

        settings = {"username": "camgate", "password_env": env, "timeout_seconds": 2}
        yield DiscoveryRig("onvif", device.base_url, settings, env, password, set_cameras, hang, malformed, device, refs,
                           rtsp=True)  # fmt: skip


@functools.cache
def _clip() -> Path:
    """A real 6-second MP4 (made once per process): what an evidence folder's clips are copies of."""
    from tests.fakes.evidence import make_test_clip

    return make_test_clip(Path(tempfile.mkdtemp(prefix="camgate-sync-clip-")))


@contextlib.contextmanager
def evidence_rig() -> Iterator[DiscoveryRig]:
    """A folder of body-camera exports (generic sidecars): a device is a camera while a clip of it is there."""
    from tests.fakes.evidence import EvidenceFolder

    recorded = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = EvidenceFolder(Path(tmp) / "exports", _clip())
        folder.path.mkdir()

        def set_cameras(cameras: list[tuple[str, str]]) -> None:
            devices = {channel for channel, _name in cameras}
            for clip in folder.path.glob("*.mp4"):
                if clip.stem not in devices:
                    clip.unlink()
                    clip.with_suffix(".json").unlink()
            for device in sorted(devices - {clip.stem for clip in folder.path.glob("*.mp4")}):
                folder.drop(device, device, recorded, age=60)

        settings = {"path": str(folder.path), "format": "generic"}
        yield DiscoveryRig("evidence", None, settings, None, None, set_cameras, None, None, folder,
                           listed_as=lambda ref, name: f"Evidence device {ref}")  # fmt: skip


RIGS: dict[str, Callable[[], AbstractContextManager[DiscoveryRig]]] = {
    "fake-nvr": fake_nvr_rig,
    "axis": axis_rig,
    "hikvision": hikvision_rig,
    "onvif": onvif_rig,
    "evidence": evidence_rig,
}
# What each rig can do, known without starting it (a test is parametrized with the rigs it applies to).
CAN: dict[str, set[str]] = {
    "fake-nvr": {"credentials", "hang", "malformed", "holes"},
    "axis": {"credentials", "hang", "malformed"},
    "hikvision": {"credentials", "hang", "malformed", "holes"},
    "onvif": {"credentials", "hang", "malformed", "holes"},
    "evidence": {"holes"},
}


def rigs_that(*can: str) -> pytest.MarkDecorator:
    """Parametrize ``discovery_rig`` with the rigs that can all of ``can``: ``credentials``, ``hang``,
    ``malformed``, ``holes`` (any camera can vanish on its own, not only the last)."""
    return pytest.mark.parametrize("discovery_rig", [n for n in RIGS if set(can) <= CAN[n]], indirect=True)


def rigs_without(cannot: str) -> pytest.MarkDecorator:
    """Parametrize ``discovery_rig`` with the rigs that cannot ``cannot`` (a scenario of their own)."""
    return pytest.mark.parametrize("discovery_rig", [n for n in RIGS if cannot not in CAN[n]], indirect=True)


def only_one_rig() -> pytest.MarkDecorator:
    """For a test of the broker's or the CLI's own handling, whatever the system: the fake NVR alone."""
    return pytest.mark.parametrize("discovery_rig", ["fake-nvr"], indirect=True)


@pytest.fixture(params=list(RIGS))
def discovery_rig(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscoveryRig]:
    import adapters

    registry = dict(adapters.ADAPTERS)
    register(registry)
    monkeypatch.setattr(adapters, "ADAPTERS", registry)
    with RIGS[request.param]() as rig:
        can = CAN[request.param]  # what the parametrization relied on is what the rig has
        assert ("credentials" in can) == (rig.password_env is not None) and ("holes" in can) != rig.numbered
        assert ("hang" in can) == (rig.hang is not None) and ("malformed" in can) == (rig.malformed is not None)
        if rig.password_env is not None and rig.password is not None:
            monkeypatch.setenv(rig.password_env, rig.password)
        yield rig

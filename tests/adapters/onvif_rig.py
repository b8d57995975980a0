"""The ONVIF rig: a fake ONVIF NVR (tests.fakes.onvif) over a real RTSP camera, and adapters built for it.

For the shared contract suite and the ONVIF tests alike::

    with OnvifRig.start(tmp_dir) as rig:        # FakeRtspCamera (/cam1 /cam2 /replay1) + FakeOnvifDevice
        adapter = rig.adapter()                 # the right credentials: cameras, live video, snapshots
        with rig.variant("wrong_credentials") as bad:   # discover/rtsp_source/snapshot raise AuthFailed
            ...
        # "hang": the device accepts and never answers -> AdapterError(timeout=True) within TIMEOUT seconds
        # "malformed": every SOAP answer is truncated XML -> AdapterError naming the operation and the fault
        rig.expected_cameras                    # [(ref, name)] discover() must list
        rig.rtsp_credentials                    # (username, password) the RTSP camera requires

    run(adapter, lambda a: a.discover())        # one event loop per use; the adapter is closed in it

Recorded footage: ONVIF replay is not offered as segments (recording() raises NotSupported; the gateway's
rolling recording applies), but ``adapter.replay_source("Recording_1")`` is RTSP that ffmpeg can read.
``variant`` resets the device's switches on exit. An adapter's HTTP pool belongs to the event loop that used
it: use each adapter in one loop and close it there (``run`` does both).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from adapters.onvif import OnvifAdapter
from broker.adapterapi import SystemSpec
from tests.fakes.onvif import RTSP_MOUNTS, FakeOnvifDevice, build_onvif_snapshots
from tests.fakes.rtsp import FakeRtspCamera, build_rtsp_clip

USERNAME = "camgate"
PASSWORD = "s3cret pass:word"  # spaces and colons: the URL userinfo must be percent-encoded
PASSWORD_ENV = "CAMGATE_TEST_ONVIF_PASSWORD"
TIMEOUT = 1.5
VARIANTS = ("ok", "wrong_credentials", "hang", "malformed")
T = TypeVar("T")


def run(adapter: OnvifAdapter, use: Callable[[OnvifAdapter], Awaitable[T]]) -> T:
    """``use(adapter)`` in a fresh event loop, closing the adapter there."""

    async def main() -> T:
        try:
            return await use(adapter)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def build_adapter(device: FakeOnvifDevice, *, password: str = PASSWORD, system: str = "school-nvr",
                  **settings: Any) -> OnvifAdapter:  # fmt: skip
    """An adapter for ``device``; the password reaches it only through an environment mapping."""
    values: dict[str, Any] = {"username": USERNAME, "password_env": PASSWORD_ENV, "timeout_seconds": TIMEOUT}
    values.update(settings)
    spec = SystemSpec(id=system, adapter="onvif", base_url=device.base_url, settings=values)
    return OnvifAdapter(spec, environ={PASSWORD_ENV: password})


class OnvifRig:
    def __init__(self, device: FakeOnvifDevice, camera: FakeRtspCamera | None) -> None:
        self.device, self.camera = device, camera

    @classmethod
    @contextmanager
    def start(cls, directory: Path, *, with_rtsp: bool = True) -> Iterator[OnvifRig]:
        """Start the fakes (with_rtsp=False: stream URIs point at a port nobody listens on)."""
        with ExitStack() as stack:
            camera = None
            if with_rtsp:
                camera = stack.enter_context(
                    FakeRtspCamera(build_rtsp_clip(directory), mounts=RTSP_MOUNTS, username=USERNAME, password=PASSWORD)
                )
            jpegs = build_onvif_snapshots(directory)
            rtsp_port = camera.port if camera else 9  # discard: nobody answers RTSP there
            device = stack.enter_context(
                FakeOnvifDevice(rtsp_port=rtsp_port, jpegs=jpegs, username=USERNAME, password=PASSWORD)
            )
            yield cls(device, camera)

    @property
    def expected_cameras(self) -> list[tuple[str, str]]:
        return self.device.expected_cameras

    @property
    def rtsp_credentials(self) -> tuple[str, str]:
        return USERNAME, PASSWORD

    def adapter(self, **settings: Any) -> OnvifAdapter:
        return build_adapter(self.device, **settings)

    @contextmanager
    def variant(self, name: str, **settings: Any) -> Iterator[OnvifAdapter]:
        if name not in VARIANTS:
            raise ValueError(f"unknown variant {name!r}; one of {VARIANTS}")
        if name == "hang":
            self.device.hang = {"*", "snapshot"}
        elif name == "malformed":
            self.device.malformed = {op: "truncated" for op in MALFORMED_OPERATIONS}
        password = "not-the-password" if name == "wrong_credentials" else PASSWORD
        try:
            yield build_adapter(self.device, password=password, **settings)
        finally:
            self.device.reset()


MALFORMED_OPERATIONS = ("GetSystemDateAndTime", "GetServices", "GetCapabilities", "GetDeviceInformation",
                        "GetProfiles", "GetStreamUri", "GetSnapshotUri")  # fmt: skip

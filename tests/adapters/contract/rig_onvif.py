"""The ONVIF rig: :class:`adapters.onvif.OnvifAdapter` against :class:`tests.fakes.onvif.FakeOnvifDevice` (an NVR
of two video sources, WS-UsernameToken digest) over a real RTSP camera, the password from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from adapters.onvif import OnvifAdapter
from tests.adapters.contract.rigs import Fault, Rig, RigEnv, RigKind
from tests.adapters.onvif_rig import PASSWORD, TIMEOUT, USERNAME, build_adapter
from tests.fakes.onvif import RTSP_MOUNTS, FakeOnvifDevice, build_onvif_snapshots
from tests.fakes.rtsp import FakeRtspCamera


@contextmanager
def start(env: RigEnv) -> Iterator[Rig]:
    with ExitStack() as stack:
        camera = stack.enter_context(FakeRtspCamera(env.clip, mounts=RTSP_MOUNTS, username=USERNAME, password=PASSWORD))
        device = stack.enter_context(
            FakeOnvifDevice(
                rtsp_port=camera.port, jpegs=build_onvif_snapshots(env.workdir), username=USERNAME, password=PASSWORD
            )
        )

        def build(right_password: bool = True) -> OnvifAdapter:
            return build_adapter(device, password=PASSWORD if right_password else "not-the-password")

        def set_fault(fault: Fault) -> None:
            device.reset()
            if fault == "hang":
                device.hang = {"*", "snapshot"}
            elif fault == "malformed":
                device.malformed = {"GetProfiles": "truncated", "snapshot": "not_jpeg"}

        yield Rig(
            name="onvif",
            system_id="school-nvr",
            expected=tuple(device.expected_cameras),
            missing_ref="Profile_9_main",
            secret=PASSWORD,
            timeout_seconds=TIMEOUT,
            malformed=r"malformed|not well-formed|truncated",
            build=build,
            set_fault=set_fault,
        )


KIND = RigKind(name="onvif", start=start)

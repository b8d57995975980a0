"""The Axis rig: :class:`adapters.axis.AxisAdapter` against :class:`tests.fakes.axis.FakeAxisCamera` (a
two-source encoder), the password from ``password_file``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.axis import AxisAdapter
from broker.adapterapi import SystemSpec
from tests.adapters.contract.rigs import Fault, Rig, RigEnv, RigKind
from tests.fakes.axis import FakeAxisCamera

PASSWORD = "axis p@ss:1/é"
TIMEOUT = 2.0


@contextmanager
def start(env: RigEnv) -> Iterator[Rig]:
    right, wrong = env.workdir / "axis-password", env.workdir / "axis-wrong-password"
    right.write_text(PASSWORD + "\n", encoding="utf-8")
    wrong.write_text("not-the-password\n", encoding="utf-8")
    with FakeAxisCamera(env.workdir, env.clip, sources=("Entrance", "Gym"), password=PASSWORD) as camera:
        assert camera.rtsp is not None

        def build(right_password: bool = True) -> AxisAdapter:
            settings = {
                "username": "camgate",
                "password_file": str(right if right_password else wrong),
                "rtsp_port": camera.rtsp.port if camera.rtsp else 554,
                "timeout_seconds": TIMEOUT,
            }
            return AxisAdapter(
                SystemSpec(id="lincoln-axis", adapter="axis", base_url=camera.base_url, settings=settings)
            )

        def set_fault(fault: Fault) -> None:
            camera.fault = fault

        yield Rig(
            name="axis",
            system_id="lincoln-axis",
            expected=(("1", "Entrance"), ("2", "Gym")),
            missing_ref="3",
            secret=PASSWORD,
            timeout_seconds=TIMEOUT,
            malformed=r"param\.cgi: line 2 is not 'root\.Group\.Parameter=value'",
            build=build,
            set_fault=set_fault,
        )


KIND = RigKind(name="axis", start=start)

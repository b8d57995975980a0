"""The Hikvision rig: :class:`adapters.hikvision.HikvisionAdapter` against
:class:`tests.fakes.hikvision.FakeHikvisionNvr` (two channels), the password from ``password_env``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.hikvision import HikvisionAdapter
from broker.adapterapi import SystemSpec
from tests.adapters.contract.rigs import Fault, Rig, RigEnv, RigKind
from tests.fakes.hikvision import FakeHikvisionNvr

PASSWORD = "hik:v1s!on p@ss"
ENV, WRONG_ENV = "CAMGATE_CONTRACT_HIKVISION_PASSWORD", "CAMGATE_CONTRACT_HIKVISION_WRONG"
TIMEOUT = 2.0


@contextmanager
def start(env: RigEnv) -> Iterator[Rig]:
    os.environ[ENV], os.environ[WRONG_ENV] = PASSWORD, "not-the-password"
    try:
        with FakeHikvisionNvr(env.workdir, env.clip, channels=("Front door", "Gym"), password=PASSWORD) as nvr:

            def build(right_password: bool = True) -> HikvisionAdapter:
                settings = {
                    "username": "camgate",
                    "password_env": ENV if right_password else WRONG_ENV,
                    "rtsp_port": nvr.rtsp.port if nvr.rtsp else 554,
                    "timeout_seconds": TIMEOUT,
                }
                spec = SystemSpec(id="lincoln-nvr", adapter="hikvision", base_url=nvr.base_url, settings=settings)
                return HikvisionAdapter(spec)

            def set_fault(fault: Fault) -> None:
                nvr.fault = fault

            yield Rig(
                name="hikvision",
                system_id="lincoln-nvr",
                expected=(("101", "Front door"), ("201", "Gym")),
                missing_ref="301",
                secret=PASSWORD,
                timeout_seconds=TIMEOUT,
                malformed=r"GET /ISAPI/\S+: malformed XML: .*line \d+, column \d+",
                build=build,
                set_fault=set_fault,
            )
    finally:
        del os.environ[ENV], os.environ[WRONG_ENV]


KIND = RigKind(name="hikvision", start=start)

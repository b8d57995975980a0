"""A rig's system served by a real broker (in-process uvicorn on 127.0.0.1), as the inventory would serve it: an
RTSP system behind the broker's gateway, an HLS-serving one (a VMS, an evidence folder) as it is.

The inventory names the adapter ``contract-rig``, registered while serving to :func:`factory`, which builds the
adapter of the rig's system by the system's id (``Rig.build``), whatever the entry says. Each camera of the rig
is an exterior camera at Saxe (``contract-ext-01``, ``-02``, ...), which the officers' MOU shares live, as a
snapshot and as footage up to 7 days old. A rig whose system is reached by RTSP alone (``asks == "stream"``) has
three more systems, each with one camera: ``contract-wrong`` (an adapter with the wrong password),
``contract-hang`` and ``contract-malformed`` (adapters built while the rig's fault was set).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from broker.adapterapi import SystemSpec
from broker.api import create_app
from broker.api.services import Services
from broker.settings import load_settings
from tests.adapters.contract.rigs import RIGS, Rig
from tests.fakes.servers import serve_in_thread
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

ADAPTER = "contract-rig"
TARGET = "tests.adapters.contract.through:factory"
VARIANTS = ("wrong", "hang", "malformed")
RTSP_TIMEOUT = 2.0  # the gateway's rtsp_timeout_seconds: how long a silent camera is waited for
_builders: dict[str, Callable[[], Any]] = {}


def factory(spec: SystemSpec) -> Any:
    assert spec.id in _builders, f"no rig serves system {spec.id!r}"
    return _builders[spec.id]()


@dataclass
class Served:
    url: str
    services: Services
    rig: Rig
    cameras: dict[str, str]  # camera id -> the ref of the rig's own system
    started: datetime

    def token(self) -> str:
        assert self.services.dev_issuer is not None
        return self.services.dev_issuer.mint("officer-kim", "ncpd", ["officer"], now=self.services.clock.now())

    def url_of(self, camera: str, route: str, **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in {**query, "access_token": self.token()}.items())
        return f"{self.url}/api/v1/cameras/{camera}/{route}?{params}"

    def get(self, camera: str, route: str, **query: str) -> httpx.Response:
        return httpx.get(self.url_of(camera, route, **query), timeout=60)


def _variant(rig: Rig, name: str) -> Callable[[], Any]:
    if name == "wrong":
        return lambda: rig.build(False)

    def build() -> Any:
        rig.set_fault(name)
        try:
            return rig.build()
        finally:
            rig.set_fault(None)

    return build


def _documents(workdir: Path, rig: Rig, systems: dict[str, str]) -> Path:
    inv = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    for system_id in systems:
        inv["systems"].append({"id": system_id, "owner": "ncps", "adapter": ADAPTER})
    for n, (ref, _name) in enumerate(rig.expected, 1):
        inv["cameras"].append(_camera(f"contract-ext-{n:02}", rig.system_id, ref))
    for variant in systems.values():
        if variant:
            inv["cameras"].append(_camera(f"contract-{variant}", f"{rig.system_id}-{variant}", rig.expected[0][0]))
    (workdir / "inventory.yaml").write_text(yaml.safe_dump(inv))
    shutil.copytree(EXAMPLE_MOUS, workdir / "mou", dirs_exist_ok=True)
    return workdir / "inventory.yaml"


def _camera(camera_id: str, system: str, ref: str) -> dict[str, str]:
    return {"id": camera_id, "name": f"Contract {camera_id}", "site": "ncps-saxe", "building": "main",
            "zone": "exterior", "system": system, "ref": ref}  # fmt: skip


@contextmanager
def serve(workdir: Path, rig: Rig) -> Iterator[Served]:
    import adapters

    variants = VARIANTS if RIGS[rig.name].asks == "stream" else ()
    systems = {rig.system_id: "", **{f"{rig.system_id}-{v}": v for v in variants}}
    _builders.update({rig.system_id: rig.build, **{f"{rig.system_id}-{v}": _variant(rig, v) for v in variants}})
    before = adapters.ADAPTERS.get(ADAPTER)
    adapters.ADAPTERS[ADAPTER] = TARGET
    inventory = _documents(workdir, rig, systems)
    settings = load_settings(mode="dev", data_dir=workdir / "data",
                             gateway={"tick_seconds": 0.2, "rtsp_timeout_seconds": RTSP_TIMEOUT},
                             policy={"inventory": inventory, "mous": [workdir / "mou"]})  # fmt: skip
    try:
        app = create_app(settings)
        started = datetime.now(UTC)
        with serve_in_thread(app) as url:
            cameras = {f"contract-ext-{n:02}": ref for n, (ref, _name) in enumerate(rig.expected, 1)}
            yield Served(url, app.state.services, rig, cameras, started)
    finally:
        _builders.clear()
        if before is None:
            del adapters.ADAPTERS[ADAPTER]
        else:
            adapters.ADAPTERS[ADAPTER] = before

"""Live video through the broker for the contract suite: a rig's adapter served by a real broker (in-process
uvicorn on 127.0.0.1) behind its RTSP gateway, as the inventory would serve it.

The inventory names the adapter ``contract-rig``, registered for the test to :func:`factory`, which builds the
rig's adapter (``Rig.build``) whatever the entry says: the broker wraps it in its gateway like any RTSP system.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from broker.adapterapi import SystemSpec
from broker.api import create_app
from broker.api.services import Services
from broker.settings import load_settings
from tests.fakes.servers import serve_in_thread
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

ADAPTER = "contract-rig"
TARGET = "tests.adapters.contract.through:factory"
CAMERA = "contract-ext-01"
_build: Callable[[], Any] | None = None


def factory(spec: SystemSpec) -> Any:
    assert _build is not None, "no rig is being served"
    return _build()


@contextmanager
def broker_for(tmp_path: Path, system_id: str, ref: str, build: Callable[[], Any]) -> Iterator[tuple[str, Services]]:
    """(broker URL, its services) with one exterior camera at Saxe: ``ref`` of the rig's system."""
    global _build
    inv = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    inv["systems"].append({"id": system_id, "owner": "ncps", "adapter": ADAPTER})
    inv["cameras"].append({"id": CAMERA, "name": "Contract camera", "site": "ncps-saxe", "building": "main",
                           "zone": "exterior", "system": system_id, "ref": ref})  # fmt: skip
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inv))
    shutil.copytree(EXAMPLE_MOUS, tmp_path / "mou", dirs_exist_ok=True)
    settings = load_settings(mode="dev", data_dir=tmp_path / "data", gateway={"tick_seconds": 0.2},
                             policy={"inventory": tmp_path / "inventory.yaml", "mous": [tmp_path / "mou"]})  # fmt: skip
    _build = build
    try:
        app = create_app(settings)
        with serve_in_thread(app) as url:
            yield url, app.state.services
    finally:
        _build = None

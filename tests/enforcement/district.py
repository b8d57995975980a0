"""The example district served for real: a simulated school VMS encoding live H.264 (1-second segments, small
frames) and a broker over HTTP on 127.0.0.1, with the example documents in a folder the test may edit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from broker.api import create_app
from broker.api.services import Services
from broker.clock import SystemClock
from broker.demo.vms import SimulatedVms
from broker.settings import load_settings
from tests.fakes.servers import serve_in_thread
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

CAMERAS = {"saxe-int-01": "Saxe · Front office hallway", "saxe-ext-01": "Saxe · Main entrance"}


@contextmanager
def running_district(
    tmp_path: Path, mous: dict[str, Any] | None = None, **vms_options: Any
) -> Iterator[tuple[str, Services, SimulatedVms]]:
    """(broker URL, its services, the VMS); ``mous``: the ``[mous]`` settings (e.g. the store keeps them);
    ``vms_options`` go to :class:`SimulatedVms` (recording, groups)."""
    clock = SystemClock()
    vms = SimulatedVms(
        CAMERAS, work_dir=tmp_path / "vms", clock=clock, segment_seconds=1.0, size="320x180", rate=10, **vms_options
    )
    base = vms.start()
    try:
        inv = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
        for system in inv["systems"]:
            system["base_url"] = base
        (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inv))
        shutil.copytree(EXAMPLE_MOUS, tmp_path / "mou")
        policy = {"inventory": tmp_path / "inventory.yaml", "mous": [tmp_path / "mou"]}
        more = {"mous": mous} if mous is not None else {}
        settings = load_settings(mode="dev", data_dir=tmp_path / "data", policy=policy, **more)
        app = create_app(settings, clock=clock)
        with serve_in_thread(app) as url:
            yield url, app.state.services, vms
    finally:
        vms.stop()


def token(services: Services, sub: str, roles: list[str], agency: str = "ncpd") -> str:
    assert services.dev_issuer is not None
    return services.dev_issuer.mint(sub, agency, roles, now=services.clock.now())

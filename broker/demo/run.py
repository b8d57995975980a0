"""``camgate demo``: the broker in dev mode in front of a simulated New Canaan district.

Every camera system of ``config/inventory.yaml`` whose ``base_url`` is on 127.0.0.1 gets a simulated VMS on
that port; each camera is a real H.264 HLS stream (camera name and time burnt in) started on first request.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from broker.clock import SystemClock
from broker.demo.vms import SimulatedVms, cameras_from_inventory
from broker.documents import load_inventory
from broker.errors import ConfigError
from broker.settings import load_settings

BANNER = """
camgate demo is running: {url}

  Simulated VMS: {vms}
  Data (SQLite, dev issuer key, video): {data}

  Try it (from another terminal, in this directory):
    OFFICER=$(.venv/bin/camgate token --sub officer-kim --agency ncpd --roles officer)
    curl -s -H "Authorization: Bearer $OFFICER" {url}/api/v1/cameras | python3 -m json.tool | head -40
    ffplay "{url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token=$OFFICER"

  The README's walkthrough goes on from there (emergency, interior camera, cut-off, audit).
"""


def run_demo(port: int | None = None) -> int:
    import uvicorn

    from broker.api import create_app

    os.environ.setdefault("CAMGATE_MODE", "dev")
    settings = load_settings()
    port = port or int(os.environ.get("PORT", "0") or 0) or settings.server.port
    inventory = load_inventory(settings.policy.inventory)
    clock = SystemClock()
    vmses: list[tuple[str, SimulatedVms]] = []
    for system in inventory.systems:
        parts = urlsplit(system.base_url or "")
        if parts.hostname != "127.0.0.1" or parts.port is None:
            continue
        cams = cameras_from_inventory(Path(settings.policy.inventory), system.id)
        vms = SimulatedVms(cams, work_dir=settings.data_dir / "vms" / system.id, clock=clock, segment_seconds=2.0,
                           size="640x360", rate=10)  # fmt: skip
        try:
            vms.start("127.0.0.1", parts.port)
        except OSError as exc:
            for _, started in vmses:
                started.stop()
            raise ConfigError(
                f"cannot start the simulated VMS for {system.id} on port {parts.port}: {exc.strerror}"
            ) from None
        vmses.append((f"{system.id} at {system.base_url} ({len(cams)} cameras)", vms))
    try:
        app = create_app(settings)
        url = f"http://127.0.0.1:{port}"
        print(BANNER.format(url=url, vms="; ".join(v[0] for v in vmses), data=settings.data_dir.resolve()), flush=True)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        for _, vms in vmses:
            vms.stop()
    return 0

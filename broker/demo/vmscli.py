"""``python -m broker.demo.vms``: one simulated VMS for the cameras of one system of an inventory."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from broker.demo import vms as vms_module
from broker.demo.vms import SimulatedVms, cameras_from_inventory

log = logging.getLogger("broker.demo.vms")


def main(argv: list[str] | None = None) -> None:
    import argparse
    import tempfile

    import uvicorn

    from broker.clock import SystemClock

    p = argparse.ArgumentParser(
        prog="python -m broker.demo.vms", description=(vms_module.__doc__ or "").splitlines()[0]
    )
    p.add_argument("--inventory", type=Path, required=True)
    p.add_argument("--system", required=True, help="system id in the inventory, e.g. ncps-vms")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--work-dir", type=Path, help="where segments go (default: a temporary directory)")
    p.add_argument("--idle-seconds", type=float, default=30.0)
    p.add_argument("--size", default="640x360")
    p.add_argument("--rate", type=int, default=15)
    p.add_argument("--record-seconds", type=float, default=600.0, help="how long recorded footage is kept")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    cameras = cameras_from_inventory(args.inventory, args.system)
    if not cameras:
        p.error(f"no cameras for system {args.system!r} in {args.inventory}")
    with contextlib.ExitStack() as stack:
        work_dir = args.work_dir
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camgate-vms-")))
        vms = SimulatedVms(
            cameras,
            work_dir=work_dir,
            clock=SystemClock(),
            idle_seconds=args.idle_seconds,
            size=args.size,
            rate=args.rate,
            record_seconds=args.record_seconds,
        )
        log.info("%d cameras for %s on http://%s:%d/", len(cameras), args.system, args.host, args.port)
        try:
            uvicorn.run(vms.app, host=args.host, port=args.port, log_level="warning")
        finally:
            vms.stop_all()

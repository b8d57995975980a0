"""``camgate demo``: the broker in dev mode in front of a simulated New Canaan district.

Every camera system of ``config/inventory.yaml`` whose ``base_url`` is on 127.0.0.1 gets a simulated VMS on
that port; each camera is a real H.264 HLS stream (camera name and time burnt in) started on first request.
An ``adapter: rtsp`` system whose ``url_template`` is on 127.0.0.1 gets live RTSP cameras there (GStreamer's
RTSP server, :mod:`broker.demo.rtspcam`), which the broker reaches through its RTSP gateway.
What the cameras encode is recorded for 10 minutes; watching any camera of a site, or declaring an emergency
there, keeps every camera of that site encoding and so recording: pre-event footage for ``playback.m3u8``.
Every evidence-folder system gets a body-camera clip made by ffmpeg at start (:mod:`broker.demo.evidence`).
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

from broker.cli.mouimport import import_if_empty
from broker.cli.target import STATE_FILE, remove_state, write_state
from broker.clock import SystemClock
from broker.demo.evidence import prepare_evidence
from broker.demo.hooks import EmergencyRecording
from broker.demo.ports import busy_ports_message, demo_ports, in_use
from broker.demo.rtspcam import DemoRtspCameras, rtsp_port
from broker.demo.vms import SimulatedVms, cameras_from_inventory
from broker.documents import Inventory, load_inventory
from broker.errors import ConfigError
from broker.logs import configure, uvicorn_log_config
from broker.private import private_dir
from broker.settings import load_settings
from broker.text import count

BANNER = """
camgate demo is running: {url}
  Web console: {url}/console/

  Simulated VMS: {vms}
  RTSP cameras (through the broker's RTSP gateway): {rtsp}
  Evidence folders (a body-camera clip made now; play it back as a supervisor): {evidence}
  Data (SQLite, dev issuer key, video): {data}
  Sign in with one click as a demo persona: {url}/dev/signin

  Try it (from another terminal, in any directory):
{try_it}

  The README's walkthrough goes on from there (emergency, interior camera, cut-off, audit). camgate reload and
  camgate trigger send find this demo by {state} (with the export above).
"""


def camgate_command() -> str:
    """The console script beside this Python (absolute: the banner's commands work from any directory)."""
    script = Path(sys.executable).parent / "camgate"
    return shlex.quote(str(script)) if script.exists() else f"{shlex.quote(sys.executable)} -m broker.cli.main"


def try_it(url: str, data_dir: Path, mou_source: str = "store") -> list[str]:
    """The banner's commands, as a new shell runs them: the exports the demo's own settings came from first."""
    env = {"CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(data_dir.resolve())}
    if config := os.environ.get("CAMGATE_CONFIG"):
        env["CAMGATE_CONFIG"] = str(Path(config).resolve())
    for name in ("CAMGATE_POLICY__INVENTORY", "CAMGATE_POLICY__MODEL"):  # e.g. an inventory moved to other ports
        if value := os.environ.get(name):
            env[name] = str(Path(value).resolve())
    env["CAMGATE_MOUS__SOURCE"] = mou_source  # where the demo keeps its MOUs: camgate mou import, diff say the same
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return [
        f"export {exports}   # the demo's dev issuer, secrets and state file",
        f"OFFICER=$({camgate_command()} token --sub officer-kim --agency ncpd --roles officer)",
        f'curl -s -H "Authorization: Bearer $OFFICER" {url}/api/v1/cameras | python3 -m json.tool | head -40',
        f'ffplay "{url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token=$OFFICER"',
    ]


def site_groups(inventory: Inventory, system_id: str) -> dict[str, list[str]]:
    """site → the refs of the system's cameras there (recorded together)."""
    groups: dict[str, list[str]] = {}
    for cam in inventory.cameras:
        if cam.system == system_id:
            groups.setdefault(cam.site, []).append(cam.ref or cam.id)
    return groups


def _exit_on_sigterm() -> None:
    """uvicorn re-raises the SIGTERM it handled once it has shut down (``Server.capture_signals``); with the
    default action that kills the process before ``finally`` stops the simulated VMSes, orphaning their
    encoders. Exit instead, so they are stopped."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def run_demo(port: int | None = None, *, site_recording: float = 600.0) -> int:
    _exit_on_sigterm()

    from broker.api import create_app
    from broker.api.serving import run

    os.environ.setdefault("CAMGATE_MODE", "dev")
    settings = load_settings()
    # The demo district's MOUs are kept by the broker (issue 14): school IT drafts and both parties countersign in
    # the console. On the first start the files under policy.mous are imported as the versions in force. Unless
    # mous.source was set (environment or CAMGATE_CONFIG); and not through os.environ, which would outlive the
    # demo in the calling process.
    if "source" not in settings.mous.model_fields_set:
        settings.mous.source = "store"
    # The data folder first, 0700 (CJIS 5.5.2, broker.private): the simulated VMS and the RTSP cameras make their
    # folders in it before the broker does, and would have created it with the default mode.
    private_dir(settings.data_dir)
    port = port or int(os.environ.get("PORT", "0") or 0) or settings.server.port
    # 0700 before the simulated systems make their folders in it (mkdir's parents would be 0755: README "Files")
    private_dir(settings.data_dir)
    inventory = load_inventory(settings.policy.inventory)
    busy = [p for p in demo_ports(inventory, port) if in_use(p.port)]
    if problem := busy_ports_message(busy, Path(settings.policy.inventory).resolve()):
        raise ConfigError(problem)  # before the banner: nothing started, nothing to stop
    clock = SystemClock()
    vmses: list[tuple[str, SimulatedVms]] = []
    by_site: dict[str, list[tuple[SimulatedVms, list[str]]]] = {}
    for system in inventory.systems:
        parts = urlsplit(system.base_url or "")
        if parts.hostname != "127.0.0.1" or parts.port is None:
            continue
        cams = cameras_from_inventory(Path(settings.policy.inventory), system.id)
        sites = site_groups(inventory, system.id)
        groups = {ref: refs for refs in sites.values() for ref in refs} if site_recording > 0 else {}
        vms = SimulatedVms(
            cams,
            work_dir=settings.data_dir / "vms" / system.id,
            clock=clock,
            segment_seconds=2.0,
            size="640x360",
            rate=10,
            record_seconds=600,
            groups=groups,
            hold_seconds=site_recording,
        )
        for site, refs in sites.items():
            if site_recording > 0:
                by_site.setdefault(site, []).append((vms, refs))
        try:
            vms.start("127.0.0.1", parts.port)
        except OSError as exc:
            for _, started in vmses:
                started.stop()
            raise ConfigError(
                f"cannot start the simulated VMS for {system.id} on port {parts.port}: {exc.strerror}"
            ) from None
        vmses.append((f"{system.id} at {system.base_url} ({count(len(cams), 'camera')})", vms))
    cameras: list[DemoRtspCameras] = []
    try:
        for system in inventory.systems:
            rtsp = rtsp_port(system.settings) if system.adapter == "rtsp" else None
            if rtsp is not None:
                labels = cameras_from_inventory(Path(settings.policy.inventory), system.id)
                log_path = settings.data_dir / "rtsp" / f"{system.id}.log"
                cameras.append(DemoRtspCameras(labels, rtsp, log_path).start())
        evidence = prepare_evidence(inventory, clock.now())
        if settings.mous.source == "store":
            import_if_empty(settings, settings.policy.mous)
        configure(logging.WARNING)  # the demo's terminal shows problems only, with their fields
        app = create_app(settings)
        hook = EmergencyRecording(app.state.services, by_site).start()
        url = f"http://127.0.0.1:{port}"
        served = "; ".join(f"rtsp://127.0.0.1:{c.port}/ ({count(len(c.cameras), 'camera')})" for c in cameras) or "none"
        banner = BANNER.format(
            url=url,
            vms="; ".join(v[0] for v in vmses),
            rtsp=served,
            evidence="; ".join(evidence) or "none",
            data=settings.data_dir.resolve(),
            try_it="\n".join(f"    {line}" for line in try_it(url, settings.data_dir, settings.mous.source)),
            state=(settings.data_dir / STATE_FILE).resolve(),
        )
        state = write_state(settings.data_dir, url)  # 0600: the URL for camgate reload / trigger send
        print(banner, flush=True)
        try:
            # proxy_headers off, as camgate serve (broker.cli.server_cmds): the audit's client is the peer's
            run(  # event streams end when the stop begins (broker.api.serving): Ctrl-C with a console open
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                proxy_headers=False,
                log_config=uvicorn_log_config(),
                access_log=settings.server.access_log,
            )
        finally:
            hook.stop()
            remove_state(state)
    finally:
        for camera in cameras:
            camera.stop()
        for _, vms in vmses:
            vms.stop()
    return 0

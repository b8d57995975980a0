"""The local ports ``camgate demo`` listens on, checked before anything starts.

The broker's port comes from ``--port`` (``make demo PORT=…``); the simulated camera systems' ports come from the
inventory (``base_url: http://127.0.0.1:9000/``, ``url_template: rtsp://127.0.0.1:9554/{ref}``). When another
program holds one (another camgate demo, or any server on 9000), the demo used to print its banner and then fail,
or stop at the first busy port with a bare ``Address already in use``; now every busy port is named at once, with
what it is for and how to move it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from broker.documents import Inventory


@dataclass(frozen=True, slots=True)
class DemoPort:
    port: int
    what: str  # "the broker", "the simulated VMS of system 'ncps-vms'", ...


def demo_ports(inventory: Inventory, broker_port: int) -> list[DemoPort]:
    """The broker's port and every 127.0.0.1 port of the inventory's systems that the demo serves itself."""
    ports = [DemoPort(broker_port, "the broker (make demo PORT=…, camgate demo --port …)")]
    for system in inventory.systems:
        if system.adapter == "rtsp":
            url, what = str(system.settings.get("url_template") or ""), "the RTSP cameras"
        else:
            url, what = system.base_url or "", "the simulated VMS"
        parts = urlsplit(url)
        if parts.hostname == "127.0.0.1" and parts.port is not None:
            ports.append(DemoPort(parts.port, f"{what} of system '{system.id}'"))
    return ports


def in_use(port: int) -> bool:
    """Whether 127.0.0.1:``port`` is held by a listening socket (bound as uvicorn and the VMS bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def busy_ports_message(busy: list[DemoPort], inventory_path: Path) -> str | None:
    """None when every port is free; else what holds the demo back and how to move each port."""
    if not busy:
        return None
    lines = [f"  127.0.0.1:{p.port}: {p.what}" for p in busy]
    first = busy[0].port
    return "\n".join(
        [
            "cannot start the demo: these ports are in use by another program (another camgate demo? "
            f"`ss -ltnp 'sport = :{first}'` names it):",
            *lines,
            "Stop that program, or run the demo on other ports: the broker's with PORT=… (make demo PORT=8081); "
            f"the camera systems' in a copy of {inventory_path} with other ports in their base_url / url_template, "
            "named by CAMGATE_POLICY__INVENTORY=<the copy> make demo",
        ]
    )

"""Which broker a console command talks to (``reload``, ``trigger send``, ``inventory sync --reload``).

First ``--url``; then the demo running on this data dir, from the state file ``camgate demo`` writes there
(``<data_dir>/demo.json``, 0600, removed when it stops; its ``pid`` must still run); then the settings the
broker itself reads, ``server.host`` and ``server.port``. The command says on stderr which one it chose:
an emergency posted to somebody else's demo on 8080 must not go unnoticed (issue 13 item 20).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.private import FILE_MODE, private_dir
from broker.settings import Settings

STATE_FILE = "demo.json"


@dataclass(frozen=True)
class Target:
    url: str
    source: str  # how it was chosen, for the stderr line

    def announce(self, command: str) -> None:
        print(f"camgate {command}: broker {self.url} ({self.source})", file=sys.stderr)


def settings_url(settings: Settings) -> str:
    """``http://<server.host>:<server.port>``, a wildcard listen address reached on loopback."""
    host = settings.server.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"  # RFC 3986 §3.2.2: an IPv6 literal in brackets
    return f"http://{host}:{settings.server.port}"


def resolve(settings: Settings, given: str | None) -> Target:
    if given:
        return Target(given.rstrip("/"), "--url")
    state = settings.data_dir / STATE_FILE
    if (url := running_demo(state)) is not None:
        return Target(url, f"the demo running on {settings.data_dir.resolve()}, from {state.resolve()}")
    return Target(settings_url(settings), "settings server.host and server.port")


def running_demo(path: Path) -> str | None:
    """The URL in a demo state file whose process still runs (None: no file, unreadable, or stale)."""
    try:
        state: Any = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(state["url"]), int(state["pid"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: only whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, run by another user
    return url.rstrip("/")


def write_state(data_dir: Path, url: str) -> Path:
    """The demo's state file (0600, replaced atomically): its URL and process id."""
    path = private_dir(data_dir) / STATE_FILE
    tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "pid": os.getpid()}, f)
    os.replace(tmp, path)
    return path


def remove_state(path: Path) -> None:
    """Remove the state file if it is still this process's (another demo may have started since)."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if int(json.loads(path.read_text(encoding="utf-8"))["pid"]) == os.getpid():
            path.unlink()

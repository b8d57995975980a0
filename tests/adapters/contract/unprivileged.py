"""An adapter used by a process of another user, for what file permissions decide (an evidence folder the
broker's user may not read). Run as root, the process is ``nobody`` (``setpriv``, util-linux): the rig's folder
lies under pytest's 0700 temporary directory. Run as anyone else, the folder is made unreadable for the run."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from broker.adapterapi import SystemSpec
from tests.paths import REPO

SCRIPT = """
import asyncio, json, sys
from datetime import datetime
from broker.adapterapi import SystemSpec
from broker.inventory.adapters import build_adapter

raw = json.loads(sys.argv[1])
spec = SystemSpec(raw["id"], raw["adapter"], raw["base_url"], raw["settings"])
ref, start, end = raw["ref"], datetime.fromisoformat(raw["start"]), datetime.fromisoformat(raw["end"])

async def main():
    adapter, said = build_adapter(spec), {}
    calls = {"discover": lambda: adapter.discover(), "recording": lambda: adapter.recording(ref, start, end)}
    for name, call in calls.items():
        try:
            await call()
            said[name] = ["ok", ""]
        except Exception as exc:
            said[name] = [type(exc).__name__, str(exc)]
    await adapter.aclose()
    print(json.dumps(said))

asyncio.run(main())
"""


@contextlib.contextmanager
def _unreadable(folder: Path) -> Iterator[list[str]]:
    if os.geteuid() == 0:
        yield ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        return
    mode = folder.stat().st_mode
    folder.chmod(0)
    try:
        yield []
    finally:
        folder.chmod(mode)


def as_another_user(spec: SystemSpec, ref: str, start: datetime, end: datetime) -> dict[str, tuple[str, str]]:
    """``{"discover": (exception type or "ok", message), "recording": ...}`` from a user without access."""
    raw = {"id": spec.id, "adapter": spec.adapter, "base_url": spec.base_url, "settings": dict(spec.settings),
           "ref": ref, "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip
    with _unreadable(Path(spec.settings["path"])) as prefix:
        done = subprocess.run([*prefix, sys.executable, "-c", SCRIPT, json.dumps(raw)], cwd=REPO, capture_output=True,
                              text=True, timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return {name: (kind, message) for name, (kind, message) in json.loads(done.stdout).items()}

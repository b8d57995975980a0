"""An adapter used by a process that may not read the rig's folder, for what file permissions decide (an evidence
folder the broker's user may not read). The folder is made unreadable (mode 0) for the run; run as root, the process
also loses the capabilities that override file permissions (``setpriv``, util-linux), and keeps its user, so it
can still read the checkout wherever that lies (a clone under a 0700 ``mktemp -d`` too)."""

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
    root = os.geteuid() == 0  # CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH would read a mode-0 folder all the same
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--"] if root else []
    mode = folder.stat().st_mode
    folder.chmod(0)
    try:
        yield prefix
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

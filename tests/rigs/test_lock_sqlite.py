"""Issue 12, reproduction 2: another process holds ``BEGIN EXCLUSIVE`` on the broker's SQLite database.

Before, the open session was served unrecorded for 11 s and then hung until the lock was released, ``/readyz``
answered 200 throughout and a new session got 503 only after 18 s. Now appends wait at most
``audit.write_timeout_seconds`` (1 s) for the lock: open sessions are refused within about a second, a new viewer
at once, ``/readyz`` says the database is locked, and viewing resumes as soon as the lock is released.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from broker.demo.vms import SimulatedVms
from tests.rigs.district import Rig, write_documents
from tests.rigs.outage import watch_through_outage

pytestmark = [pytest.mark.video, pytest.mark.rig]
HOLD = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # held until the test closes our standard input
db.execute("ROLLBACK")
"""


class LockHolder:
    def __init__(self, database: Path) -> None:
        self.database = database
        self.proc: subprocess.Popen[str] | None = None

    def hold(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(self.database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=10) == 0

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_a_lock_held_elsewhere_stops_viewing_within_a_second_and_its_release_resumes_it(
    vms: SimulatedVms, tmp_path: Path
) -> None:
    rig = Rig(tmp_path, tmp_path / "data", write_documents(tmp_path / "documents", str(vms.base_url)))
    rig.start()
    holder = LockHolder(tmp_path / "data" / "camgate.db")
    try:
        # The probe waits 1 s for the lock, a second after the last one: readyz is 503 within 3 s at most.
        outage = watch_through_outage(
            rig, 2, holder.hold, holder.release, r"database is locked", stop_bound=1.5, unready_bound=3.0
        )
    finally:
        holder.close()
        rig.stop()
    print(f"SQLite lock: {outage}")

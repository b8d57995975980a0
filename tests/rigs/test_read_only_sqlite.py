"""Issue 12, "What to build" 1: the audit database becomes unwritable under the broker (SQLite).

A read-only filesystem cannot be had under a running SQLite broker and undone: ``mount -o remount,ro`` is refused
(EBUSY) while the database is open for writing, and ext4's own emergency remount (``errors=remount-ro``) stays
read-only until unmounted. So the data folder is a loop-mounted ext4 and the database and its WAL are made
immutable (``chattr +i``; not the shared-memory file, which SQLite maps: writing to it would kill the process
with SIGBUS), which refuses every write through the descriptors SQLite holds, as a read-only filesystem does,
until ``chattr -i``. Open sessions must stop, ``/readyz`` say why, and viewing resume when writes are allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.demo.vms import SimulatedVms
from tests.rigs.district import Rig, write_documents
from tests.rigs.outage import watch_through_outage
from tests.rigs.volume import ext4_loop, write_protect

pytestmark = [pytest.mark.video, pytest.mark.rig]


def test_an_unwritable_database_stops_viewing_and_writes_allowed_again_resume_it(
    vms: SimulatedVms, tmp_path: Path
) -> None:
    with ext4_loop(tmp_path / "volume", tmp_path / "volume.img") as volume:
        env = write_documents(tmp_path / "documents", str(vms.base_url)) | {"CAMGATE_AUDIT__RESERVE_BYTES": "1048576"}
        rig = Rig(tmp_path, volume.path / "data", env)
        rig.start()
        files = [volume.path / "data" / "camgate.db", volume.path / "data" / "camgate.db-wal"]
        try:
            outage = watch_through_outage(
                rig, 2, lambda: write_protect(*files), lambda: write_protect(*files, on=False), r"disk I/O error"
            )
        finally:
            write_protect(*files, on=False)
            rig.stop()
    print(f"SQLite unwritable: {outage}")

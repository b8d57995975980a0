"""Issue 12, reproduction 1: a full disk under a broker on SQLite while ffmpeg viewers watch.

The broker's data folder is an 8 MB tmpfs; three ffmpeg viewers read live video through a counting proxy. A filler
file then takes every free byte: with no reserve (``audit.reserve_bytes: 0``, the issue's broker) the database
refuses the next write ("database or disk is full"). Open sessions stop at once, and service comes back within
5 s of the filler's deletion, in the same process (:mod:`tests.rigs.outage`). With a small reserve (2 MiB) a
free space under it, the disk not yet full, stops viewing too, saying so, while the records that close access
still fit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.demo.vms import SimulatedVms
from tests.rigs.district import Rig, write_documents
from tests.rigs.outage import watch_through_outage
from tests.rigs.volume import tmpfs

pytestmark = [pytest.mark.video, pytest.mark.rig]


def test_full_disk_stops_every_viewer_at_once_and_service_resumes_when_space_returns(
    vms: SimulatedVms, tmp_path: Path
) -> None:
    reserve, reason = 0, r"database or disk is full"  # no reserve: the database itself refuses (the reserve: below)
    with tmpfs(tmp_path / "volume", "8m") as volume:
        env = write_documents(tmp_path / "documents", str(vms.base_url))
        rig = Rig(tmp_path, volume.path / "data", env | {"CAMGATE_AUDIT__RESERVE_BYTES": str(reserve)})
        rig.start()
        try:
            outage = watch_through_outage(rig, 3, lambda: volume.fill() and None, volume.unfill, reason)
        finally:
            rig.stop()
    print(f"SQLite full disk, reserve {reserve}: {outage}")


def test_free_space_under_the_reserve_stops_viewing_before_the_disk_is_full(vms: SimulatedVms, tmp_path: Path) -> None:
    reserve = 2 * 1024 * 1024
    with tmpfs(tmp_path / "volume", "8m") as volume:
        env = write_documents(tmp_path / "documents", str(vms.base_url))
        rig = Rig(tmp_path, volume.path / "data", env | {"CAMGATE_AUDIT__RESERVE_BYTES": str(reserve)})
        rig.start()
        try:
            outage = watch_through_outage(
                rig,
                1,
                lambda: volume.fill(leave=reserve // 2) and None,
                volume.unfill,
                rf"disk nearly full: \d+ bytes free on the audit database's filesystem, reserve is {reserve}",
            )
            assert volume.free > reserve  # the filler is gone
        finally:
            rig.stop()
    print(f"SQLite reserve: {outage}")

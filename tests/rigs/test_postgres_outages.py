"""Issue 12, "What to build" 1 on PostgreSQL: a full disk under the database, and the database stopped and
started again under load, with ffmpeg viewers watching (:mod:`tests.rigs.outage` says what must hold).

Each test runs its own throwaway cluster (:mod:`tests.rigs.pgcluster`) whose data folder is a small tmpfs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.demo.vms import SimulatedVms
from tests.rigs.district import Rig, write_documents
from tests.rigs.outage import watch_through_outage
from tests.rigs.pgcluster import throwaway_cluster

pytestmark = [pytest.mark.video, pytest.mark.rig]
UNTIL_A_NEW_PAGE = 10.0  # seconds of three viewers' records until PostgreSQL must take a new page


def test_full_disk_under_postgresql_stops_every_viewer_and_service_resumes_when_space_returns(
    vms: SimulatedVms, tmp_path: Path
) -> None:
    with throwaway_cluster() as (cluster, volume):
        env = write_documents(tmp_path / "documents", str(vms.base_url)) | {"CAMGATE_STORE__URL": cluster.url}
        rig = Rig(tmp_path, tmp_path / "data", env)
        rig.start()
        try:
            # PostgreSQL goes on writing into space it holds already (room left in table pages, WAL segments made
            # in advance): those records are durable, so their answers may go out. Viewing stops at the first
            # write that needs a new page, a few seconds later at this rate.
            outage = watch_through_outage(
                rig,
                3,
                lambda: volume.fill() and None,
                volume.unfill,
                r"No space left on device",
                unready_bound=UNTIL_A_NEW_PAGE,
            )
        finally:
            rig.stop()
        assert cluster.running()  # PostgreSQL refused the writes; it did not go down
    print(f"PostgreSQL full disk: {outage}")


def test_postgresql_stopped_and_started_again_under_load_stops_viewing_then_resumes_by_itself(
    vms: SimulatedVms, tmp_path: Path
) -> None:
    with throwaway_cluster() as (cluster, _volume):
        env = write_documents(tmp_path / "documents", str(vms.base_url)) | {"CAMGATE_STORE__URL": cluster.url}
        rig = Rig(tmp_path, tmp_path / "data", env)
        rig.start()
        try:
            # A request that reads the store before the audit is asked (the emergencies a decision needs) is
            # refused as store_unavailable: as closed, with its Retry-After too.
            outage = watch_through_outage(
                rig,
                3,
                lambda: cluster.stop("immediate"),
                cluster.start,
                r"OperationalError: .*connection",
                refusal_codes=frozenset({"audit_unavailable", "store_unavailable"}),
            )
        finally:
            rig.stop()
    print(f"PostgreSQL stopped: {outage}")

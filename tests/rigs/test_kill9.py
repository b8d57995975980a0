"""Issue 12, reproduction 3: ``kill -9`` mid-viewing loses nothing that was served.

Before, a viewer was served 175 answers, the broker was killed and restarted, and the log held only
``session.start``. Now each answer's ``session.served`` record is committed before the answer goes out, and the
restarted broker ends the dead process's sessions (``replica_lost``) with their last durable totals.

Fifty ffmpeg viewers (the issue's figure) watch through the counting proxy; the broker gets SIGKILL while they
watch and is started again on the same database with a one-second replica timeout. Then for every viewer the
chain's served count is at least what it received (never below: the surplus is answers recorded but cut off by
the kill), every session has one ``session.end`` with reason ``replica_lost`` carrying its last served totals,
and the chain verifies.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from broker.demo.vms import SimulatedVms
from tests.rigs.district import LIVE, Rig, assert_nothing_unrecorded, read_records, served_tallies, write_documents
from tests.rigs.proxy import counting_proxy
from tests.rigs.viewers import viewers
from tests.waiting import wait_for

pytestmark = [pytest.mark.video, pytest.mark.rig]
VIEWERS = 50


def test_kill_9_mid_viewing_then_restart_every_answer_received_is_on_the_chain_and_every_session_ends(
    vms: SimulatedVms, tmp_path: Path
) -> None:
    env = write_documents(tmp_path / "documents", str(vms.base_url)) | {"CAMGATE_AUDIT__REPLICA_TIMEOUT_SECONDS": "1"}
    rig = Rig(tmp_path, tmp_path / "data", env)
    rig.start()
    subs = [f"officer-{i}" for i in range(VIEWERS)]
    try:
        with counting_proxy(rig.url, VIEWERS) as proxy:
            began = time.monotonic()
            with viewers([(proxy.url(i, LIVE), rig.token(sub)) for i, sub in enumerate(subs)]):

                def watched(i: int) -> int:
                    return sum(1 for h in proxy.received(i) if h.kind == "segment")

                wait_for(lambda: all(watched(i) >= 3 for i in range(VIEWERS)), 120, "every viewer to watch")
                watching = time.monotonic() - began
                rig.kill()  # mid-viewing: requests in flight are cut
                killed = time.monotonic()
            received = [[h.nbytes for h in proxy.received(i)] for i in range(VIEWERS)]
            cut = sum(1 for h in proxy.hits(since=killed - 1) if h.error == "no_answer")
        assert not [h for h in proxy.received() if h.ended > killed + 0.5], "answers after the kill"

        started = {str(r.details["session"]) for r in read_records(rig.database_url, "session.start")}
        assert len(started) == VIEWERS and not read_records(rig.database_url, "session.end")
        rig.start()  # the same store; its housekeeping finds the dead process's sessions

        def ended() -> list[object]:
            return read_records(rig.database_url, "session.end")

        wait_for(lambda: len(ended()) == VIEWERS, 30, "every session of the killed broker to end")
        recovered = time.monotonic() - killed
        ends = read_records(rig.database_url, "session.end")
        assert {str(e.details["session"]) for e in ends} == started
        assert {e.reason for e in ends} == {"replica_lost"}

        tallies = served_tallies(rig.database_url)
        surplus = [assert_nothing_unrecorded(tallies.get(sub), received[i]) for i, sub in enumerate(subs)]
        by_session = {str(e.details["session"]): e for e in ends}
        for sub in subs:
            for session, totals in tallies[sub].sessions.items():
                assert by_session[session].details["requests"] == totals[-1][0]
                assert by_session[session].details["bytes"] == totals[-1][1]
        assert rig.verify_cli()["ok"] is True
    finally:
        rig.stop()
    total = sum(len(r) for r in received)
    print(
        f"kill -9 with {VIEWERS} viewers: {total} answers received, {total + sum(surplus)} recorded "
        f"(surplus {sum(surplus)} over {sum(1 for s in surplus if s)} viewers), {cut} requests cut by the kill; "
        f"all watching after {watching:.1f} s; sessions ended {recovered:.1f} s after the kill"
    )

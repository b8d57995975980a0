"""Issue 12, "What to build" 2: only answers that went out are counted, not those that failed upstream.

Before, a playlist answered 502 because the camera system failed still added to the session's ``requests``: in a
200-viewer run the audit counted 35,718 requests where the clients received 31,121, the difference exactly the
502s. Here two ffmpeg viewers watch while the camera system (behind a second proxy) fails every playlist for a
while: the viewers get 502s, and afterwards each viewer's served count and bytes on the chain equal exactly what
it received.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from broker.demo.vms import SimulatedVms
from tests.rigs.district import LIVE, Rig, assert_nothing_unrecorded, served_tallies, write_documents
from tests.rigs.outage import assert_every_session_ended
from tests.rigs.proxy import counting_proxy
from tests.rigs.viewers import viewers
from tests.waiting import wait_for

pytestmark = [pytest.mark.video, pytest.mark.rig]
VIEWERS = 2


def test_playlists_failed_upstream_are_not_counted_as_served(vms: SimulatedVms, tmp_path: Path) -> None:
    with counting_proxy(str(vms.base_url).rstrip("/"), 1) as upstream:
        rig = Rig(tmp_path, tmp_path / "data", write_documents(tmp_path / "documents", upstream.url(0, "/")))
        rig.start()
        subs = [f"officer-{i}" for i in range(VIEWERS)]
        try:
            with (
                counting_proxy(rig.url, VIEWERS) as proxy,
                viewers([(proxy.url(i, LIVE), rig.token(sub)) for i, sub in enumerate(subs)]),
            ):

                def segments(i: int, since: float | None = None) -> int:
                    return sum(1 for h in proxy.hits(i, since=since) if h.received and h.kind == "segment")

                def failed(i: int) -> int:
                    return sum(1 for h in proxy.hits(i) if h.status == 502 and h.kind == "playlist")

                wait_for(lambda: all(segments(i) >= 2 for i in range(VIEWERS)), 60, "every viewer to watch")
                upstream.faults["playlist"] = 500
                wait_for(lambda: all(failed(i) >= 2 for i in range(VIEWERS)), 30, "playlists to fail upstream")
                upstream.faults.clear()
                healed = time.monotonic()
                wait_for(lambda: all(segments(i, healed) for i in range(VIEWERS)), 30, "the viewers to resume")
            rig.stop()
            refusals = {h.error for h in proxy.hits() if not h.received}
            assert refusals == {"upstream_error"}, refusals
            tallies = served_tallies(rig.database_url)
            for i, sub in enumerate(subs):
                received = [h.nbytes for h in proxy.received(i)]
                assert assert_nothing_unrecorded(tallies[sub], received) == 0, "502s counted as served"
                assert tallies[sub].bytes == sum(received)
            assert_every_session_ended(rig)
            assert rig.verify_cli()["ok"] is True
        finally:
            rig.stop()
    print(
        f"upstream failures: received {[len(proxy.received(i)) for i in range(VIEWERS)]}, "
        f"502s {[failed(i) for i in range(VIEWERS)]}, recorded {[tallies[s].requests for s in subs]}"
    )

"""One outage of the audit store under live viewing, and what must hold (issue 12, "What to build" 1 and 2).

:func:`watch_through_outage` runs ffmpeg viewers through the counting proxy until each has watched, breaks the
store (``breaking``), and checks that:

- ``/readyz`` answers 503 within ``unready_bound`` seconds of the break (and stays so until the repair);
- every viewer is refused (503 ``audit_unavailable``, or one of ``refusal_codes``, with ``Retry-After``), no
  request waited more than 2 s for its refusal, and no answer was delivered later than ``stop_bound`` seconds after ``/readyz`` said 503;
- a request of that viewer and of a new one is refused at once, not after waiting for the store;
- ``/readyz`` answers 503 with ``audit.writable`` false and a reason matching ``reason``, and the broker logged
  that the audit store is not writable;

then repairs it (``repairing``) and checks that ``/readyz`` and a live playlist are back within ``resume_bound``
seconds and every viewer watches again, from the same broker process. Then, the broker stopped: every answer a
viewer received has its ``session.served`` record, every session has one ``session.end`` carrying its durable
totals, and ``camgate audit verify`` passes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tests.rigs.district import LIVE, Rig, assert_nothing_unrecorded, read_records, served_tallies
from tests.rigs.proxy import CountingProxy, counting_proxy
from tests.rigs.viewers import viewers
from tests.waiting import wait_for

STOP_BOUND = 2.0  # seconds from readyz 503 to the last answer delivered (the issue: "within a second")
RESUME_BOUND = 5.0  # seconds from the repair to service (the "Done means")
UNREADY_BOUND = 2.5  # seconds from the break to /readyz 503 (a failed append, or the probe a second later)
ANSWER_BOUND = 1.0  # seconds a refusal may take once the broker knows (it must not try the store again)
HANG_BOUND = 2.0  # seconds any request may wait for its refusal (audit.write_timeout_seconds is 1)


@dataclass
class Outage:
    reason: str
    stopped_after: float  # last answer delivered, seconds after the break (negative: before it)
    unready_after: float  # /readyz 503, seconds after the break
    slowest_refusal: float  # the longest a viewer's request waited for its 503
    resumed_after: float  # a live playlist answered again, seconds after the repair
    received: list[int]  # answers each viewer received
    surplus: list[int]  # answers recorded but not delivered, per viewer

    def __str__(self) -> str:
        return (
            f"stopped {self.stopped_after:+.2f} s, readyz 503 {self.unready_after:.2f} s after the break, "
            f"slowest refusal {self.slowest_refusal:.2f} s; "
            f"resumed {self.resumed_after:.2f} s after the repair; received {self.received}, "
            f"recorded beyond that {self.surplus}; reason: {self.reason}"
        )


def _segments(proxy: CountingProxy, viewer: int, since: float | None = None) -> int:
    return sum(1 for h in proxy.hits(viewer, since=since) if h.received and h.kind == "segment")


def watch_through_outage(
    rig: Rig,
    n_viewers: int,
    breaking: Callable[[], None],
    repairing: Callable[[], None],
    reason: str,
    *,
    stop_bound: float = STOP_BOUND,
    resume_bound: float = RESUME_BOUND,
    answer_bound: float = ANSWER_BOUND,
    unready_bound: float = UNREADY_BOUND,
    refusal_codes: frozenset[str] = frozenset({"audit_unavailable"}),
) -> Outage:
    subs = [f"officer-{i}" for i in range(n_viewers)]
    tokens = [rig.token(sub) for sub in subs]
    with counting_proxy(rig.url, n_viewers) as proxy:
        live = [proxy.url(i, LIVE) for i in range(n_viewers)]

        def ask(i: int) -> httpx.Response:
            return httpx.get(live[i], headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=10)

        with viewers(list(zip(live, tokens, strict=True))):
            wait_for(lambda: all(_segments(proxy, i) >= 2 for i in range(n_viewers)), 60, "every viewer to watch")

            broke = time.monotonic()
            breaking()
            wait_for(lambda: rig.readyz().status_code == 503, unready_bound + 5, "readyz 503")
            known = time.monotonic()
            unready_after = known - broke
            assert unready_after <= unready_bound, f"readyz answered 200 for {unready_after:.2f} s"

            def refused(i: int) -> list[int]:
                return [h.status for h in proxy.hits(i, since=known + stop_bound) if h.status == 503]

            wait_for(lambda: all(len(refused(i)) >= 2 for i in range(n_viewers)), 30, "every viewer to be refused")
            late = [h for h in proxy.hits(since=known + stop_bound) if h.received]
            assert not late, f"{len(late)} answers delivered more than {stop_bound} s after readyz said 503"
            stopped_after = max(h.ended for h in proxy.received()) - broke
            errors = {h.error for h in proxy.hits(since=known + stop_bound) if not h.received}
            assert errors and errors <= refusal_codes, errors
            refusals = [h for h in proxy.hits(since=broke) if not h.received]
            slowest_refusal = max(h.ended - h.started for h in refusals)
            assert slowest_refusal <= HANG_BOUND, f"a viewer waited {slowest_refusal:.2f} s for its refusal"

            for r in (ask(0), rig.get(LIVE, rig.token("officer-new"))):  # an open session's viewer; a new one
                assert r.status_code == 503 and r.json()["error"] in refusal_codes, r.text
                assert int(r.headers["Retry-After"]) > 0
                refused_in = r.elapsed.total_seconds()
                assert refused_in < answer_bound, f"a refusal took {refused_in:.2f} s"
            ready = rig.readyz()
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable", ready.text
            audit = ready.json()["audit"]
            assert audit["writable"] is False and re.search(reason, audit["reason"]), audit
            assert f"audit store not writable: {audit['reason']}" in rig.log()
            assert "audit store writable again" not in rig.log(), "readyz went back to 200 during the outage"

            repaired = time.monotonic()
            repairing()
            wait_for(lambda: rig.readyz().status_code == 200, resume_bound, "readyz 200 after the repair")
            wait_for(lambda: ask(0).status_code == 200, resume_bound, "a live playlist after the repair")
            resumed_after = time.monotonic() - repaired
            assert resumed_after <= resume_bound
            wait_for(lambda: all(_segments(proxy, i, repaired) for i in range(n_viewers)), 30, "the viewers to resume")
            assert len(rig.started) == 1 and rig.started[0].proc.poll() is None, "the broker was restarted"
    rig.stop()  # the open sessions end, their records written
    received = [[h.nbytes for h in proxy.received(i)] for i in range(n_viewers)]
    tallies = served_tallies(rig.database_url)
    surplus = [assert_nothing_unrecorded(tallies.get(sub), received[i]) for i, sub in enumerate(subs)]
    assert_every_session_ended(rig)
    assert rig.verify_cli()["ok"] is True
    return Outage(
        audit["reason"],
        stopped_after,
        unready_after,
        slowest_refusal,
        resumed_after,
        [len(r) for r in received],
        surplus,
    )


def assert_every_session_ended(rig: Rig) -> None:
    """Each session started has exactly one end, carrying the totals of its last ``session.served`` record."""
    started = {str(r.details["session"]) for r in read_records(rig.database_url, "session.start")}
    ends = [r for r in read_records(rig.database_url, "session.end")]
    ended = [str(r.details["session"]) for r in ends]
    assert sorted(ended) == sorted(started), "sessions without exactly one end"
    last: dict[str, int] = {}
    for rec in read_records(rig.database_url, "session.served"):
        last[str(rec.details["session"])] = max(last.get(str(rec.details["session"]), 0), rec.details["requests"])
    for end in ends:
        assert end.details["requests"] == last.get(str(end.details["session"]), 0), end.details

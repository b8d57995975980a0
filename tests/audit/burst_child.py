"""Run by test_audit_kill in a subprocess: appends from many threads and prints ``seq hash`` for each append
as it returns (that is, as the request would be answered), until it is killed.

    python -m tests.audit.burst_child DATABASE_URL THREADS
"""

from __future__ import annotations

import os
import sys
import threading

from broker.audit import AuditLog
from broker.clock import SystemClock
from broker.store import Store

LIMIT = 200_000  # appends per thread; the test kills the process long before (a guard against running forever)


def main(url: str, threads: int) -> None:
    store = Store.open(url)
    audit = AuditLog(store, SystemClock())

    def requester(n: int) -> None:
        for i in range(LIMIT):
            rec = audit.append("decision", camera=f"t{n}-{i}", allowed=True, details={"burst": n})
            os.write(1, f"{rec.seq} {rec.hash}\n".encode())  # one write per line: whole lines, never mixed

    pool = [threading.Thread(target=requester, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

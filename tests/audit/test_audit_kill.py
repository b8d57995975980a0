"""kill -9 in the middle of a burst of group-committed appends: every answered record is in the database
and the chain verifies (SQLite file; PostgreSQL when CAMGATE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlalchemy import text

from broker.audit import AuditLog
from broker.clock import FakeClock
from broker.store import Store
from tests.paths import REPO

THREADS = 32
ANSWERED_BEFORE_KILL = 400


def test_kill_9_mid_burst_loses_no_answered_record(store: Store, database_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.audit.burst_child", database_url, str(THREADS)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Unbuffered: readline reads no further than the line, so communicate() (which reads the raw pipe, not a
        # buffered reader's read-ahead) gets the rest from a line's start. Was: a buffered read-ahead ending
        # mid-line left `rest` starting with half a line ("not enough values to unpack"), its lines unchecked.
        bufsize=0,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    answered: dict[int, str] = {}
    try:
        while len(answered) < ANSWERED_BEFORE_KILL:
            line = child.stdout.readline()  # EOF if the child died: then the assertion below says why
            assert line, f"the appender exited early: {child.stderr.read().decode() if child.stderr else ''}"
            seq, digest = line.split()
            answered[int(seq)] = digest.decode()
        os.kill(child.pid, signal.SIGKILL)  # mid-burst: THREADS appends are in flight
    finally:
        if child.poll() is None:
            child.kill()
        rest, _ = child.communicate(timeout=30)
    for line in rest.splitlines():  # answered between our last read and the kill
        seq, digest = line.split()
        answered[int(seq)] = digest.decode()
    assert child.returncode == -signal.SIGKILL

    with store.engine.connect() as conn:
        rows = {seq: digest for seq, digest in conn.execute(text("SELECT seq, hash FROM audit_records"))}
    missing = sorted(seq for seq in answered if rows.get(seq) != answered[seq])
    assert missing == [], f"answered but not durable: {missing[:10]}"
    result = AuditLog(store, FakeClock()).verify()
    assert result.ok, result
    assert result.records == len(rows) >= len(answered)
    assert len(answered) > ANSWERED_BEFORE_KILL - 1

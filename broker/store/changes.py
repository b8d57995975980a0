"""Change notification across replicas on PostgreSQL: ``LISTEN``/``NOTIFY`` on the emergencies generation.

Every bump of the emergencies generation (and of the document generation: a reload, an MOU approved or terminated
on another replica) also runs ``pg_notify`` in the same transaction, so the notice is
delivered to every listening session when (and only if) that transaction commits (PostgreSQL docs,
"NOTIFY": "if a NOTIFY is executed inside a transaction, the notify events are not delivered until and
unless the transaction is committed"). The channel is per schema (``camgate_em_`` + md5 of
``current_schema()``), so brokers in different schemas of one database do not wake each other.

:class:`ChangeListener` holds one dedicated connection (detached from the pool, autocommit) in a daemon
thread, ``LISTEN``s, and calls back on every notice, and once after every (re)connection so that a change
made while it was down is not missed. If it is down, the generation poll
(``emergencies.refresh_seconds``) still finds every change: notification only makes it sooner. SQLite has
no notification: the poll alone.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from broker.store.db import Store, driver_problem

log = logging.getLogger(__name__)

CHANNEL_SQL = "'camgate_em_' || md5(current_schema())"
NOTIFY_EMERGENCIES = text(f"SELECT pg_notify({CHANNEL_SQL}, '')")
# A reload applied (the document generation moved): other processes follow it; the sender's own listener skips it.
DOCUMENTS_PAYLOAD = f"documents:{secrets.token_hex(8)}"
NOTIFY_DOCUMENTS = text(f"SELECT pg_notify({CHANNEL_SQL}, :payload)").bindparams(payload=DOCUMENTS_PAYLOAD)
WAIT_SECONDS = 0.5  # how long one wait for notices lasts before the stop flag is looked at again
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # reconnection back-off, the last repeated


class ChangeListener:
    """``LISTEN`` for emergency changes on a dedicated PostgreSQL connection; ``on_change()`` on each."""

    def __init__(
        self, store: Store, on_change: Callable[[], None], on_documents: Callable[[], None] | None = None
    ) -> None:
        """``on_documents``: another process applied a reload (:data:`NOTIFY_DOCUMENTS`)."""
        if store.dialect_name != "postgresql":
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL")
        self._store = store
        self._on_change = on_change
        self._on_documents = on_documents
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()  # set while listening (tests and /readyz-style checks)
        self.notices = 0
        self.backend_pid: int | None = None  # the listening session's server process (for operators and tests)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="camgate-pg-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as exc:
                self.connected.clear()
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning(
                    "emergency change listener down (polling meanwhile), retry in %.1fs: %s", delay, driver_problem(exc)
                )
                self._stop.wait(delay)

    def _listen(self) -> None:
        raw = self._store.engine.raw_connection()
        conn: Any = raw.driver_connection
        raw.detach()  # ours for good: closing it closes it, the pool never hands it out again
        try:
            conn.rollback()  # the pool's pre-ping may have left a transaction open
            conn.autocommit = True
            channel = conn.execute(f"SELECT {CHANNEL_SQL}").fetchone()[0]
            conn.execute(f'LISTEN "{channel}"')  # an md5-derived name: nothing to escape
            self.backend_pid = conn.info.backend_pid
            self.connected.set()
            self._changed()  # whatever happened while no one was listening (documents: the tick's poll)
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=WAIT_SECONDS):
                    self.notices += 1
                    payload = str(notice.payload or "")
                    if not payload.startswith("documents:"):
                        self._changed()
                    elif payload != DOCUMENTS_PAYLOAD:  # not this process's own reload
                        self._call(self._on_documents)
        finally:
            self.connected.clear()
            try:
                raw.close()
            except Exception:
                log.debug("closing the listener connection failed", exc_info=True)

    def _changed(self) -> None:
        self._call(self._on_change)

    def _call(self, call: Callable[[], None] | None) -> None:
        if call is None:
            return
        try:
            call()
        except Exception as exc:  # the store may be briefly unreachable: the poll catches up
            log.warning("emergency refresh after a change notice failed: %s", exc)

"""Each camera system's last inventory sync (``system_status``), shared by the CLI and every replica."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import system_status
from broker.store.types import as_utc


@dataclass(frozen=True)
class SystemStatus:
    system: str
    adapter: str
    checked_at: datetime
    ok_at: datetime | None
    reachable: bool | None
    authentication_ok: bool | None
    discovered: int | None
    error: str | None


class SystemStatusRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, statuses: list[SystemStatus]) -> None:
        """Replace each system's row; a failed attempt keeps the last success's ``ok_at`` and count."""
        if not statuses:
            return
        c = system_status.c
        try:
            with self._store.begin_write() as conn:
                ids = [s.system for s in statuses]
                before = {r.system: r for r in conn.execute(select(system_status).where(c.system.in_(ids)))}
                conn.execute(delete(system_status).where(c.system.in_(ids)))
                rows = []
                for s in statuses:
                    old = before.get(s.system)
                    ok_at = s.ok_at or (old.ok_at if old is not None else None)
                    discovered = s.discovered if s.ok_at is not None else (old.discovered if old is not None else None)
                    rows.append({"system": s.system, "adapter": s.adapter,
                                 "checked_at": as_utc(s.checked_at, name="checked_at"), "ok_at": ok_at,
                                 "reachable": s.reachable, "authentication_ok": s.authentication_ok,
                                 "discovered": discovered, "error": s.error})  # fmt: skip
                conn.execute(system_status.insert(), rows)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def all(self) -> dict[str, SystemStatus]:
        try:
            with self._store.engine.connect() as conn:
                return {r.system: SystemStatus(**dict(r._mapping)) for r in conn.execute(select(system_status))}
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

"""Web console sessions and sign-ins under way (``console_sessions``, ``console_logins``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import console_logins, console_sessions
from broker.store.types import as_utc


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    issuer: str
    sub: str
    agency: str
    roles: tuple[str, ...]
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class ConsoleRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, row: SessionRow) -> None:
        values = {**row.__dict__, "roles": list(row.roles)}
        try:
            with self._store.begin_write() as conn:
                conn.execute(console_sessions.insert().values(**values))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def get(self, id_hash: str) -> SessionRow | None:
        try:
            with self._store.engine.connect() as conn:
                found = conn.execute(select(console_sessions).where(console_sessions.c.id_hash == id_hash)).first()
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc
        if found is None:
            return None
        values = dict(found._mapping)
        values["roles"] = tuple(values["roles"])
        return SessionRow(**values)

    def touch(self, id_hash: str, at: datetime) -> None:
        c = console_sessions.c
        try:
            with self._store.begin_write() as conn:
                conn.execute(update(console_sessions).where(c.id_hash == id_hash).values(last_seen_at=as_utc(at)))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def delete(self, id_hash: str) -> bool:
        try:
            with self._store.begin_write() as conn:
                done = conn.execute(delete(console_sessions).where(console_sessions.c.id_hash == id_hash))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc
        return bool(done.rowcount)

    def purge(self, now: datetime, idle_before: datetime) -> int:
        """Delete sessions past their absolute expiry or idle since before ``idle_before``, and stale logins."""
        c = console_sessions.c
        try:
            with self._store.begin_write() as conn:
                done = conn.execute(
                    delete(console_sessions).where(
                        (c.expires_at <= as_utc(now)) | (c.last_seen_at < as_utc(idle_before))
                    )
                )
                conn.execute(delete(console_logins).where(console_logins.c.expires_at <= as_utc(now)))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc
        return int(done.rowcount or 0)

    # -- sign-ins under way (authlib's cache: get / set / delete) --------------------------------------

    def login_set(self, key: str, value: str, expires_at: datetime) -> None:
        try:
            with self._store.begin_write() as conn:
                conn.execute(delete(console_logins).where(console_logins.c.key == key))
                conn.execute(console_logins.insert().values(key=key, value=value, expires_at=as_utc(expires_at)))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def login_take(self, key: str, now: datetime) -> str | None:
        """The value stored under ``key`` if not expired; deleted on the way (one use only)."""
        c = console_logins.c
        try:
            with self._store.begin_write() as conn:
                found = conn.execute(select(c.value, c.expires_at).where(c.key == key)).first()
                conn.execute(delete(console_logins).where(c.key == key))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc
        if found is None or as_utc(found.expires_at) <= as_utc(now):
            return None
        return str(found.value)

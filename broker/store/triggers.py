"""Trigger deliveries (idempotency by webhook-id) and trigger-declared emergencies (confirmation state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import trigger_deliveries, trigger_emergencies
from broker.store.types import as_utc

MAX_DUE = 500


@dataclass(frozen=True)
class TriggerOrigin:
    emergency: str
    source: str
    device: str
    confirm_by: datetime | None
    confirmed_at: datetime | None
    confirmed_by_sub: str | None
    confirmed_by_agency: str | None


class TriggerRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # -- deliveries ----------------------------------------------------------------------------------
    def claim(self, source: str, webhook_id: str, now: datetime) -> tuple[int | None, Any] | None:
        """Claim a delivery id. None: claimed now, handle it. Else the first delivery's (status, answer);
        status None while the first delivery is still being handled."""
        key = (trigger_deliveries.c.source == source) & (trigger_deliveries.c.webhook_id == webhook_id)
        try:
            with self._store.begin_write() as conn:
                row = conn.execute(select(trigger_deliveries.c.status, trigger_deliveries.c.answer).where(key)).first()
                if row is not None:
                    return row.status, row.answer
                conn.execute(trigger_deliveries.insert().values(
                    source=source, webhook_id=webhook_id, received_at=as_utc(now, name="now")))  # fmt: skip
        except IntegrityError:  # another replica claimed it between our read and insert
            return None, None
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc
        return None

    def answer(self, source: str, webhook_id: str, status: int, answer: Any) -> None:
        key = (trigger_deliveries.c.source == source) & (trigger_deliveries.c.webhook_id == webhook_id)
        try:
            with self._store.begin_write() as conn:
                conn.execute(update(trigger_deliveries).where(key).values(status=status, answer=answer))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def release(self, source: str, webhook_id: str) -> None:
        """Forget a claim whose handling failed for a passing reason (503): a redelivery is handled anew."""
        key = (trigger_deliveries.c.source == source) & (trigger_deliveries.c.webhook_id == webhook_id)
        try:
            with self._store.begin_write() as conn:
                conn.execute(delete(trigger_deliveries).where(key))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def prune_deliveries(self, before: datetime) -> int:
        """Forget the answered deliveries received before ``before`` (how many). Their ids guard nothing by
        then: a redelivery's timestamp is refused beyond the Standard Webhooks tolerance (5 minutes)."""
        query = delete(trigger_deliveries).where(
            trigger_deliveries.c.received_at < as_utc(before, name="before"), trigger_deliveries.c.status.is_not(None)
        )
        try:
            with self._store.begin_write() as conn:
                return int(conn.execute(query).rowcount or 0)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    # -- trigger-declared emergencies ----------------------------------------------------------------
    def add_origin(self, origin: TriggerOrigin) -> None:
        try:
            with self._store.begin_write() as conn:
                self.add_origin_in(conn, origin)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("insert into", exc) from exc

    @staticmethod
    def add_origin_in(conn: Connection, origin: TriggerOrigin) -> None:
        """:meth:`add_origin` inside the caller's transaction (the declaration's audit record's)."""
        row = {k: getattr(origin, k) for k in TriggerOrigin.__dataclass_fields__}
        conn.execute(trigger_emergencies.insert().values(**row))

    def origin(self, emergency: str) -> TriggerOrigin | None:
        rows = self._select(select(trigger_emergencies).where(trigger_emergencies.c.emergency == emergency))
        return rows[0] if rows else None

    def latest_of(self, source: str, device: str) -> list[TriggerOrigin]:
        q = select(trigger_emergencies).where(
            trigger_emergencies.c.source == source, trigger_emergencies.c.device == device
        )
        return self._select(q)

    def confirm(self, emergency: str, at: datetime, sub: str, agency: str) -> bool:
        """Record the confirmation; False if it was already confirmed (one conditional UPDATE)."""
        try:
            with self._store.begin_write() as conn:
                return self.confirm_in(conn, emergency, at, sub, agency)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("update of", exc) from exc

    @staticmethod
    def confirm_in(conn: Connection, emergency: str, at: datetime, sub: str, agency: str) -> bool:
        """:meth:`confirm` inside the caller's transaction (the confirmation's audit record's)."""
        result = conn.execute(
            update(trigger_emergencies)
            .where(trigger_emergencies.c.emergency == emergency, trigger_emergencies.c.confirmed_at.is_(None))
            .values(confirmed_at=as_utc(at, name="at"), confirmed_by_sub=sub, confirmed_by_agency=agency)
        )
        return bool(result.rowcount == 1)

    def clear_deadline(self, emergency: str) -> None:
        """The emergency ended (by itself or otherwise): no confirmation is awaited any more."""
        try:
            with self._store.begin_write() as conn:
                conn.execute(
                    update(trigger_emergencies)
                    .where(trigger_emergencies.c.emergency == emergency)
                    .values(confirm_by=None)
                )
        except SQLAlchemyError as exc:
            raise self._store.unavailable("update of", exc) from exc

    def unconfirmed_due(self, now: datetime) -> list[TriggerOrigin]:
        """Emergencies whose confirmation deadline passed without one (the caller checks they are still open)."""
        q = (
            select(trigger_emergencies)
            .where(trigger_emergencies.c.confirm_by <= as_utc(now, name="now"),
                   trigger_emergencies.c.confirmed_at.is_(None))
            .order_by(trigger_emergencies.c.confirm_by)
            .limit(MAX_DUE)
        )  # fmt: skip
        return self._select(q)

    def _select(self, query: Any) -> list[TriggerOrigin]:
        try:
            with self._store.engine.connect() as conn:
                return [TriggerOrigin(**dict(row._mapping)) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

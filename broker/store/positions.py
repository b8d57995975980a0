"""The last reported position of each mobile camera, shared by the replicas (``camera_positions``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import camera_positions
from broker.store.types import as_utc

MAX_ROWS = 10_000


class PositionRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, camera: str, lat: float, lon: float, at: datetime, source: str) -> None:
        """Keep the position unless a later one is stored (an older report never overwrites a newer one)."""
        row = {"lat": lat, "lon": lon, "at": as_utc(at, name="at"), "source": source}
        c = camera_positions.c
        try:
            for _ in range(2):
                with self._store.begin_write() as conn:
                    done = conn.execute(
                        update(camera_positions).where(c.camera == camera, c.at < row["at"]).values(**row)
                    )
                    if done.rowcount == 1 or conn.execute(select(c.at).where(c.camera == camera)).first() is not None:
                        return  # updated, or a position as recent or later is stored
                try:
                    with self._store.begin_write() as conn:
                        conn.execute(camera_positions.insert().values(camera=camera, **row))
                    return
                except IntegrityError:  # another replica inserted first: compare again
                    continue
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def since(self, instant: datetime) -> list[dict[str, Any]]:
        """Positions reported at or after ``instant`` (the only ones still worth anything)."""
        query = select(camera_positions).where(camera_positions.c.at >= as_utc(instant, name="instant"))
        try:
            with self._store.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(query.limit(MAX_ROWS))]
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

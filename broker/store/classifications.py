"""Camera classifications kept in the store (issue 14, item 7), for ``mous.source = "store"``.

One row per camera: the latest classification school IT gave it, written in the transaction of its
``camera.classify`` audit record and carrying that record's seq and hash (:mod:`broker.store.binding`), so
:mod:`broker.audit.bindclassify` names a row changed, added or deleted by hand. The reloader applies every row on top
of the inventory file (:mod:`broker.admin.classify`), so every replica serves them whatever its own file says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import SQLAlchemyError

from broker.store.binding import Binding
from broker.store.db import Store
from broker.store.tables import camera_classifications
from broker.store.types import as_utc


@dataclass(frozen=True)
class StoredClassification:
    camera: str
    site: str
    building: str | None
    zone: str
    location: tuple[float, float] | None
    by_sub: str
    at: datetime
    audit_seq: int | None = None
    audit_hash: str | None = None


class ClassificationRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def all(self) -> list[StoredClassification]:
        """Every stored classification, by camera (raises StoreUnavailable)."""
        try:
            with self._store.begin_read() as conn:
                return self.read_in(conn)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    @staticmethod
    def read_in(conn: Connection) -> list[StoredClassification]:
        rows = conn.execute(select(camera_classifications).order_by(camera_classifications.c.camera))
        out = []
        for r in rows:
            loc = (float(r.lat), float(r.lon)) if r.lat is not None and r.lon is not None else None
            out.append(
                StoredClassification(
                    r.camera, r.site, r.building, r.zone, loc, r.by_sub, as_utc(r.at), r.audit_seq, r.audit_hash
                )
            )
        return out

    @staticmethod
    def put_in(conn: Connection, row: StoredClassification, binding: Binding) -> None:
        """Replace the camera's row (inside the audit record's transaction)."""
        table = camera_classifications
        conn.execute(delete(table).where(table.c.camera == row.camera))
        lat, lon = row.location if row.location is not None else (None, None)
        values = {"camera": row.camera, "site": row.site, "building": row.building, "zone": row.zone}
        conn.execute(
            table.insert().values(**values, lat=lat, lon=lon, by_sub=row.by_sub, at=row.at, **binding.values())
        )

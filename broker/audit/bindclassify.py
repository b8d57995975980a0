"""Checking the stored camera classifications against the audit chain, both ways (issue 14, item 7).

With ``mous.source = "store"`` a ``camera_classifications`` row decides which zone a camera is in on every replica, so
a row changed by hand would share a restricted camera as an exterior one. Each row carries the seq and hash of its
``camera.classify`` record (:mod:`broker.store.binding`); here:

- row -> chain: the record exists with that hash, is a ``camera.classify`` kept in the store, names the same camera,
  and its ``after`` is exactly the row's site, building, zone and location;
- chain -> row: the latest such record of every camera has its row, bound to it (a deleted row, or one put back to
  an older classification, is named).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from broker.audit.bindrecords import CLASSIFY, BoundRecord, ChainFacts, lookup
from broker.audit.bindrows import Problem
from broker.store.classifications import ClassificationRepository, StoredClassification

TABLE = "camera_classifications"


def _after(row: StoredClassification) -> dict[str, Any]:
    loc = {"lat": row.location[0], "lon": row.location[1]} if row.location is not None else None
    return {"site": row.site, "building": row.building, "zone": row.zone, "location": loc}


def _row_problems(row: StoredClassification, rec: BoundRecord | None, first: int | None) -> Iterator[Problem]:
    key, seq = row.camera, row.audit_seq
    if seq is None or row.audit_hash is None:
        yield Problem(TABLE, key, "audit_seq", "the row is not bound to the audit chain (no audit_seq/audit_hash)")
        return
    if first is not None and 0 < seq < first:
        return  # bound to a record retention pruned
    if rec is None:
        yield Problem(TABLE, key, "audit_seq", f"record {seq} does not exist", seq)
    elif rec.hash != row.audit_hash:
        yield Problem(TABLE, key, "audit_hash", f"is not the hash of record {seq}", seq)
    elif rec.kind != CLASSIFY or rec.get("kept") != "store":
        yield Problem(TABLE, key, "audit_seq", f"record {seq} is {rec.kind}, not a {CLASSIFY} kept in the store", seq)
    elif rec.get("camera") != row.camera:
        yield Problem(TABLE, key, "camera", f"record {seq} classified {rec.get('camera')!r}", seq)
    else:
        after = rec.get("after") if isinstance(rec.get("after"), dict) else {}
        for name, value in _after(row).items():
            if after.get(name) != value:
                yield Problem(TABLE, key, name, f"is {value!r}, but record {seq} says {after.get(name)!r}", seq)


def check_classifications(conn: Connection, facts: ChainFacts, first: int | None) -> Iterator[Problem]:
    rows = ClassificationRepository.read_in(conn)
    records = lookup(conn, [r.audit_seq for r in rows if r.audit_seq is not None])
    seen: dict[str, StoredClassification] = {}
    for row in rows:
        seen[row.camera] = row
        yield from _row_problems(row, records.get(row.audit_seq) if row.audit_seq is not None else None, first)
    for camera, latest in facts.classified.items():
        kept = seen.get(camera)
        if kept is None:
            why = f"record {latest.seq} ({CLASSIFY}) says it exists, but its row is missing (deleted)"
            yield Problem(TABLE, camera, "camera", why, latest.seq)
        elif kept.audit_seq is not None and kept.audit_seq < latest.seq:
            why = f"bound to record {kept.audit_seq}, but record {latest.seq} classified it later (rolled back)"
            yield Problem(TABLE, camera, "audit_seq", why, latest.seq)

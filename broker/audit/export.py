"""``camgate audit export``: the log, its checkpoints and its public keys, for verification with no broker.

An export is a directory:

``records.jsonl``
    One record a line, in seq order: ``{"hash":"<hex>",`` followed by the rest of the record's canonical form
    (:func:`broker.audit.chain.canonical`: every field the hash covers, keys sorted, including ``seq`` and
    ``prev_hash``). So a line is plain JSON, and the bytes its hash covers are the line with ``"hash":"…",``
    taken out: ``{`` + line[75:]. A row of the store that is not a record is written as
    ``{"malformed":{"field":…,"why":…},"seq":N}`` (the offline verify reports it as tampering at N).
``checkpoints.jsonl``
    The signed checkpoints whose records fall in the exported range (and the prune checkpoints fixing its
    base), in signing order, each :meth:`Checkpoint.to_dict`; a row that is not one is ``{"malformed":…}``.
``keys.json``
    ``{"keys": [{"key_id", "public_key", "current"}]}``: the public keys (base64url raw Ed25519).
``manifest.json``
    What was exported and when: range, the record before it (``anchor``), the chain's head and base at the
    time, whether the export reaches the head (``complete``), and whether it holds every checkpoint ever signed
    (``checkpoints_anchored``). Written last: a directory without it is not an export.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, func, select

from broker.audit import checkpoint_store
from broker.audit.chain import GENESIS, canonical
from broker.audit.checkpoints import CheckpointError, verify_signature
from broker.audit.keys import KeyRing
from broker.audit.proof import base_of
from broker.audit.reader import CanonicalText, load_record, page_sql, splice
from broker.audit.records import rfc3339
from broker.audit.rows import MalformedRecord
from broker.audit.writer import HEAD
from broker.errors import InvalidRequest
from broker.private import FILE_MODE, private_dir
from broker.store.db import Store
from broker.store.tables import audit_records
from broker.store.types import as_utc

FORMAT = "camgate-audit-export"
VERSION = 1
RECORDS, CHECKPOINTS, KEYS, MANIFEST = "records.jsonl", "checkpoints.jsonl", "keys.json", "manifest.json"
HASH_PREFIX = b'{"hash":"'
PAGE = 20_000

Bound = int | datetime | None


def parse_bound(text: str | None, name: str) -> Bound:
    """``--from`` / ``--to``: a record's seq (a whole number) or an RFC 3339 instant; raises InvalidRequest."""
    from broker.timeutil import parse_instant

    if text is None:
        return None
    if text.strip().isdigit():
        return int(text)
    try:
        return parse_instant(text)
    except ValueError:
        raise InvalidRequest(f"{name}: a record's seq or an RFC 3339 instant, not {text!r}", field=name) from None


def line(body: bytes, hash_: str) -> bytes:
    """An export line: the canonical body with ``"hash"`` first."""
    return HASH_PREFIX + hash_.encode() + b'",' + body[1:] + b"\n"


@dataclass(frozen=True)
class Exported:
    first_seq: int
    last_seq: int
    records: int
    checkpoints: int
    directory: Path


def _seq_of(conn: Connection, bound: Bound, *, start: bool) -> int | None:
    """The first seq at or after ``bound`` (start) / the last seq up to it (end); a time: ts >= from, ts < to."""
    if bound is None or isinstance(bound, int):
        return bound
    t = audit_records.c
    when = as_utc(bound)
    query = select(func.min(t.seq)).where(t.ts >= when) if start else select(func.max(t.seq)).where(t.ts < when)
    found = conn.execute(query).scalar()
    return found if found is not None else (2**62 if start else 0)


def _write_records(conn: Connection, f: IO[bytes], first: int, last: int) -> int:
    """Stream records ``first``..``last`` as export lines: raw pages, each row spliced as the verifier splices it
    (:func:`~broker.audit.reader.splice`), a row that cannot be (JSON columns not canonical text, a ts not in the
    stored format, a column of another type) written the slow way. The count.

    Measured against alternatives: a fetching thread (as the verifier's) costs more than it saves here, and lines
    built by the database (json_quote / to_json) are no faster on SQLite or PostgreSQL.
    """
    seen = CanonicalText()
    known = seen.known
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = page_sql(conn.dialect.name)
    count, after = 0, first - 1
    try:
        while after < last:
            cursor.execute(sql, (after, min(PAGE, last - after)))
            rows = cursor.fetchall()
            if not rows:
                break
            try:
                out = [
                    splice(row, f'{{"hash":"{row[17]}",')
                    if row[1] is not None
                    and (row[5] in known or seen(row[5]))
                    and (row[15] in known or seen(row[15]))
                    and type(row[17]) is str
                    else _slow_line(conn, row[0])
                    for row in rows
                ]
            except (TypeError, KeyError, ValueError):  # a column of another type somewhere: row by row
                out = [_line_of(conn, row, seen) for row in rows]
            f.write("\n".join(out).encode())
            f.write(b"\n")
            count += len(rows)
            after = rows[-1][0]
            if type(after) is not int:  # a row whose seq is not a number sorts last (SQLite): nothing follows
                break
    finally:
        cursor.close()
    return count


def _line_of(conn: Connection, row: tuple[Any, ...], seen: CanonicalText) -> str:
    if row[1] is not None and seen(row[5]) and seen(row[15]) and type(row[17]) is str:
        try:
            return splice(row, f'{{"hash":"{row[17]}",')
        except (TypeError, KeyError, ValueError):
            pass
    return _slow_line(conn, row[0])


def _slow_line(conn: Connection, seq: int) -> str:
    try:
        rec = load_record(conn, seq)
    except MalformedRecord as exc:
        return canonical({"malformed": {"field": exc.field, "why": exc.why}, "seq": seq}).decode()
    return line(canonical(rec.hash_fields()), rec.hash).decode().rstrip("\n")


def export(store: Store, keys: KeyRing, out: Path, *, start: Bound, end: Bound, now: datetime) -> Exported:
    """Write an export of records ``start``..``end`` (seqs or instants; None: the chain's base / head) to ``out``.

    Raises InvalidRequest naming ``out`` when it cannot be written (a file, no such parent, read-only, full)."""
    try:
        return _export(store, keys, out, start=start, end=end, now=now)
    except OSError as exc:
        raise InvalidRequest(f"{out}: the export cannot be written ({exc.strerror or exc})", field="out") from None


def _export(store: Store, keys: KeyRing, out: Path, *, start: Bound, end: Bound, now: datetime) -> Exported:
    if (out / MANIFEST).exists():
        raise InvalidRequest(f"{out} already holds an export; choose an empty directory", field="out")
    # The records are the store's content: owner-only like the store (CJIS 5.5.2, broker.private); a folder that
    # exists (a mounted drive) is left as it is, the files are 0600 in any case.
    private_dir(out)
    with store.begin_read() as conn:
        head_row = conn.execute(HEAD).first()
        head = (head_row.seq, head_row.hash) if head_row is not None else None
        rows = list(checkpoint_store.read_all(conn)) if checkpoint_store.exists(conn) else []
        trusted = []
        for row in rows:
            if row.checkpoint is not None and row.problem is None:
                try:
                    verify_signature(row.checkpoint, keys.public_keys())
                except CheckpointError:
                    continue
                trusted.append(row.checkpoint)
        base = base_of(trusted)
        head_seq = head[0] if head is not None else conn.execute(select(func.max(audit_records.c.seq))).scalar() or 0
        first = max(_seq_of(conn, start, start=True) or 1, base[0] + 1)
        last = min(_seq_of(conn, end, start=False) or 0, head_seq) if end is not None else head_seq
        anchor = base[1] if first == base[0] + 1 else None
        with _private(out / RECORDS) as f:
            count = _write_records(conn, f, first, last) if first <= last else 0
        t = audit_records.c
        if anchor is None and count:
            anchor = conn.execute(select(t.prev_hash).where(t.seq == first)).scalar() if first > 1 else GENESIS
        last_hash = conn.execute(select(t.hash).where(t.seq == last)).scalar() if count else None
        lo = first - 1
        fixes_base = first == base[0] + 1  # the prune checkpoint that vouches for the anchor goes with it
        chosen = [
            r
            for r in rows
            if r.checkpoint is None
            or lo <= r.checkpoint.records <= last
            or (fixes_base and r.checkpoint.kind == "prune" and r.checkpoint.base_seq == base[0] > 0)
        ]
        anchored = bool(chosen) and chosen[0].n == 1  # every checkpoint from the first one ever signed
        with _private(out / CHECKPOINTS) as f:
            for r in chosen:
                body: dict[str, Any] = (
                    r.checkpoint.to_dict()
                    if r.checkpoint is not None and r.problem is None
                    else {"malformed": r.problem, "row": r.n, "id": r.id}
                )
                f.write(json.dumps(body, sort_keys=True).encode() + b"\n")
    with _private(out / KEYS) as f:
        f.write((json.dumps({"keys": keys.listing()}, indent=1) + "\n").encode())
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": rfc3339(now),
        "store": store.description,
        "first_seq": first if count else None,
        "last_seq": last if count else None,
        "last_hash": last_hash,
        "records": count,
        "anchor": {"seq": first - 1, "hash": anchor or GENESIS},
        "head": {"seq": head[0], "hash": head[1]} if head is not None else None,
        "base": {"seq": base[0], "hash": base[1]},
        "complete": head is not None and last == head[0],
        "checkpoints": len(chosen),
        "checkpoints_anchored": anchored,
        "requested": {"from": _shown(start), "to": _shown(end)},
    }
    with _private(out / MANIFEST) as f:
        f.write((json.dumps(manifest, indent=1) + "\n").encode())
    return Exported(first, last, count, len(chosen), out)


def _private(path: Path) -> IO[bytes]:
    """``path`` opened for writing, created 0600 (an existing file's mode is kept: the folder held no export)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb")


def _shown(bound: Bound) -> int | str | None:
    return rfc3339(bound) if isinstance(bound, datetime) else bound

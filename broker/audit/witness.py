"""A witness's directory of checkpoints: what a school or a police department keeps of the broker's audit chain.

Each checkpoint received is stored as ``DIR/<records>-<id>.json``, exactly :meth:`Checkpoint.to_dict` (canonical
JSON, written atomically: a temporary file, fsync, rename, fsync of the directory), the format ``camgate audit
verify EXPORT --witness DIR`` reads. ``DIR/witness.log`` is the journal of receipts (one JSON line each: when,
which checkpoint, the flags raised then); ``DIR/keys/<key_id>.pub`` the signer's public keys as delivered.

A new checkpoint must extend what the witness holds (RFC 9162 §2.1.4, Certificate Transparency's consistency,
applied to a hash chain): records never decrease, ``previous`` names the latest checkpoint held, one head per
record count, the chain's base never moves back. One that does not is kept all the same, but flagged: it is the
evidence. A checkpoint arriving late (a retried delivery) that a held one already names as its ``previous`` is
consistent. :meth:`WitnessDir.report` re-checks the whole directory (``camgate audit witness check``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from broker.audit.chain import canonical
from broker.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    key_id,
    public_key_from_text,
    verify_signature,
)
from broker.timeutil import format_instant

LOG = "witness.log"
KEYS = "keys"
_FILE = re.compile(r"^(\d+)-([0-9a-f]{64})\.json$")
HISTORICAL = ("rollback", "fork", "base_back")  # receipt flags a later checkpoint cannot explain away


@dataclass(frozen=True)
class Flag:
    """Why a checkpoint does not extend what the witness held: ``code`` is one of rollback, fork, branch,
    unlinked, new_chain, backwards, base_back, unreadable."""

    checkpoint: str
    records: int
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "records": self.records, "code": self.code, "problem": self.message}


@dataclass(frozen=True)
class Receipt:
    checkpoint: Checkpoint
    stored: str | None  # the file name; None for a checkpoint already held
    flags: list[Flag]
    signature_checked: bool

    def to_dict(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "stored": self.stored,
            "duplicate": self.stored is None,
            "id": cp.id,
            "records": cp.records,
            "signature_checked": self.signature_checked,
            "flags": [f.to_dict() for f in self.flags],
        }


def _flag(cp: Checkpoint, code: str, message: str) -> Flag:
    return Flag(cp.id, cp.records, code, message)


def _short(cp: Checkpoint) -> str:
    return f"{cp.id[:12]} (records {cp.records})"


def latest(held: Iterable[Checkpoint]) -> Checkpoint | None:
    return max(held, key=lambda c: (c.records, c.ts, c.id), default=None)


def flags_for(cp: Checkpoint, held: Mapping[str, Checkpoint]) -> list[Flag]:
    """How ``cp`` fails to extend the checkpoints ``held`` (by id); empty if it does."""
    successors = [c for c in held.values() if c.previous == cp.id]
    if successors:  # a late delivery of a checkpoint the chain already went past
        return [
            _flag(cp, "backwards", f"records {cp.records} above its successor {_short(c)}")
            for c in successors
            if c.records < cp.records
        ]
    top = latest(held.values())
    if top is None:
        return []
    flags = []
    if cp.records < top.records:
        flags.append(_flag(cp, "rollback", f"records {cp.records} is below {top.records} of {_short(top)} held"))
    elif cp.records == top.records and cp.head != top.head:
        flags.append(_flag(cp, "fork", f"another head for records {cp.records} than {_short(top)}"))
    if cp.previous is None:
        flags.append(_flag(cp, "new_chain", f"previous: null, but the witness holds {len(held)} checkpoint(s)"))
    elif cp.previous not in held:
        flags.append(_flag(cp, "unlinked", f"previous: {cp.previous[:12]} is not held (missed, or another chain)"))
    else:
        before = held[cp.previous]
        if cp.previous != top.id:
            flags.append(_flag(cp, "branch", f"previous: {_short(before)} is not the latest held, {_short(top)}"))
        if cp.records < before.records:
            flags.append(_flag(cp, "backwards", f"records {cp.records} below its previous {_short(before)}"))
    if cp.base_seq < top.base_seq:
        flags.append(_flag(cp, "base_back", f"base_seq {cp.base_seq} is below {top.base_seq} of {_short(top)}"))
    return flags


def structure(held: Mapping[str, Checkpoint]) -> list[Flag]:
    """Whether the checkpoints held form one line: one head per record count, every ``previous`` held (but the
    oldest's), no two following the same one, records never decreasing along the links."""
    flags: list[Flag] = []
    ordered = sorted(held.values(), key=lambda c: (c.records, c.ts, c.id))
    heads: dict[int, Checkpoint] = {}
    children: dict[str, list[Checkpoint]] = {}
    for i, cp in enumerate(ordered):
        first = heads.setdefault(cp.records, cp)
        if first.head != cp.head:
            flags.append(_flag(cp, "fork", f"another head for records {cp.records} than {_short(first)}"))
        if cp.previous is None:
            if i > 0:
                flags.append(_flag(cp, "new_chain", "previous: null, but it is not the oldest checkpoint held"))
            continue
        children.setdefault(cp.previous, []).append(cp)
        before = held.get(cp.previous)
        if before is None and i > 0:
            flags.append(_flag(cp, "unlinked", f"previous: {cp.previous[:12]} is not held"))
        elif before is not None and cp.records < before.records:
            flags.append(_flag(cp, "backwards", f"records {cp.records} below its previous {_short(before)}"))
    for previous, siblings in children.items():
        for cp in siblings if len(siblings) > 1 else ():
            others = ", ".join(_short(c) for c in siblings if c is not cp)
            flags.append(_flag(cp, "branch", f"it and {others} both follow {previous[:12]}"))
    return flags


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WitnessDir:
    """The directory, loaded once; :meth:`receive` is safe from several threads (one receipt at a time)."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if create:
            (path / KEYS).mkdir(parents=True, exist_ok=True)
        self.held: dict[str, Checkpoint] = {}
        self.unreadable: list[Flag] = []
        self._lock = threading.Lock()
        for file in sorted(path.iterdir()):
            match = _FILE.match(file.name)
            if match is None:
                continue
            try:
                cp = Checkpoint.from_dict(json.loads(file.read_bytes()))
            except (OSError, ValueError) as exc:  # CheckpointError is a ValueError
                self.unreadable.append(Flag(match.group(2), int(match.group(1)), "unreadable", f"{file.name}: {exc}"))
                continue
            self.held[cp.id] = cp

    def file_name(self, cp: Checkpoint) -> str:
        return f"{cp.records}-{cp.id}.json"

    def _check_signature(self, cp: Checkpoint, public_key: str | None) -> bool:
        """True if the signature was checked (with the key sent along, or one kept from before); raises
        CheckpointError naming ``data.public_key`` or ``data.signature`` if it does not verify."""
        kept = self.path / KEYS / f"{cp.key_id}.pub"
        text = public_key if public_key is not None else (kept.read_text().strip() if kept.exists() else None)
        if text is None:
            return False
        try:
            key = public_key_from_text(text)
        except CheckpointError as exc:
            raise CheckpointError(f"data.public_key: {exc}") from None
        if key_id(key) != cp.key_id:
            raise CheckpointError(f"data.public_key: is not key {cp.key_id}, which the checkpoint names")
        try:
            verify_signature(cp, {cp.key_id: key})
        except CheckpointError as exc:
            raise CheckpointError(f"data.signature: {exc}") from None
        if not kept.exists():
            _write_atomic(kept, text.encode() + b"\n")
        return True

    def receive(self, cp: Checkpoint, now: datetime, public_key: str | None = None) -> Receipt:
        """Check and keep ``cp``; raises CheckpointError (nothing stored) if its signature does not verify."""
        with self._lock:
            checked = self._check_signature(cp, public_key)
            if cp.id in self.held:
                return Receipt(cp, None, [], checked)
            flags = flags_for(cp, self.held)
            name = self.file_name(cp)
            _write_atomic(self.path / name, canonical(cp.to_dict()) + b"\n")
            self.held[cp.id] = cp
            line = {
                "received_at": format_instant(now),
                "id": cp.id,
                "records": cp.records,
                "head": cp.head,
                "previous": cp.previous,
                "key_id": cp.key_id,
                "flags": [f.to_dict() for f in flags],
            }
            with open(self.path / LOG, "ab") as log:
                log.write(canonical(line) + b"\n")
                log.flush()
                os.fsync(log.fileno())
            return Receipt(cp, name, flags, checked)

    def logged_flags(self) -> list[Flag]:
        """The flags raised on receipt that later checkpoints cannot explain (a rollback stays a rollback)."""
        flags = []
        try:
            lines = (self.path / LOG).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            try:
                for f in json.loads(line).get("flags", []):
                    if f.get("code") in HISTORICAL:
                        flags.append(Flag(f["checkpoint"], f["records"], f["code"], f["problem"]))
            except (ValueError, AttributeError, KeyError, TypeError):
                flags.append(Flag("", 0, "unreadable", f"{LOG}: a line is not a receipt"))
        return flags

    def report(self) -> dict[str, Any]:
        """What the witness holds and every flag: the output of ``camgate audit witness check``."""
        flags: dict[tuple[str, str], Flag] = {}
        for f in [*self.unreadable, *structure(self.held), *self.logged_flags()]:
            flags.setdefault((f.checkpoint, f.code), f)
        top = latest(self.held.values())
        keys = sorted({cp.key_id for cp in self.held.values()})
        body: dict[str, Any] = {"dir": str(self.path), "checkpoints": len(self.held), "keys": keys, "latest": None}
        if top is not None:
            body["latest"] = {
                "id": top.id,
                "records": top.records,
                "head": top.head,
                "ts": format_instant(top.ts),
                "key_id": top.key_id,
            }
        body["flags"] = [f.to_dict() for f in sorted(flags.values(), key=lambda f: (f.records, f.checkpoint, f.code))]
        body["ok"] = not flags
        return body

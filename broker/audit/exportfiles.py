"""The files of an export, read strictly (:mod:`broker.audit.export` writes them; :mod:`broker.audit.offline`
verifies them): the manifest and keys as JSON, the checkpoint lines, a witness's directory of checkpoints, and a
record line parsed in full (the slow path) into an :class:`AuditRecord`, naming the bad field when it is not one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.checkpoints import Checkpoint, CheckpointError, key_id, public_key_from_text
from broker.audit.export import CHECKPOINTS
from broker.audit.proof import Problem, Row
from broker.audit.records import AuditRecord
from broker.audit.rows import NULLABLE_TEXT, TEXT, MalformedRecord
from broker.timeutil import parse_instant


class ExportError(ValueError):
    """Not an export, or a witness directory that cannot be read: bad input (exit 2), not tampering."""


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file (is {path.parent} an export of camgate audit export?)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ExportError(f"{path}: cannot be read as JSON ({exc})") from None


def read_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """A keys file (``keys.json`` of an export, or GET /api/v1/audit/keys saved): public keys by key id."""
    if not path.is_file():  # read_json's message is about an export's own files
        raise ExportError(f"{path}: no such keys file")
    data = read_json(path)
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ExportError(f'{path}: expected {{"keys": [{{"key_id": ..., "public_key": ...}}]}}')
    keys: dict[str, Ed25519PublicKey] = {}
    for n, entry in enumerate(entries):
        try:
            public = public_key_from_text(entry["public_key"])
        except (CheckpointError, KeyError, TypeError) as exc:
            raise ExportError(f"{path}: keys[{n}]: {exc}") from None
        keys[key_id(public)] = public
    return keys


def read_witness_dir(directory: Path) -> tuple[list[tuple[str, Checkpoint]], list[Problem]]:
    """Every ``*.json`` in ``directory`` as a checkpoint (name, checkpoint); a file that is not one is a problem."""
    if not directory.is_dir():
        raise ExportError(f"{directory}: not a directory of witnessed checkpoints")
    found, problems = [], []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append((path.name, Checkpoint.from_dict(json.loads(path.read_text(encoding="utf-8")))))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            problems.append(Problem(None, f"witness file {path.name} holds no checkpoint ({exc})"))
    return found, problems


def checkpoint_rows(path: Path) -> Iterator[Row]:
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    for n, raw in enumerate(lines, start=1):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            yield Row(f"line {n}", None, f"{CHECKPOINTS} line {n} is not JSON ({exc})")
            continue
        if isinstance(data, dict) and "malformed" in data:
            yield Row(str(data.get("id", f"line {n}")), None, f"checkpoint row {data.get('row')}: {data['malformed']}")
            continue
        try:
            cp = Checkpoint.from_dict(data)
        except CheckpointError as exc:
            listed = data.get("id") if isinstance(data, dict) else None
            yield Row(str(listed or f"line {n}"), None, f"{CHECKPOINTS} line {n}: {exc}")
            continue
        yield Row(cp.id, cp)


def record_of(data: object, expected_seq: int) -> AuditRecord:
    """A parsed export line as a record; raises MalformedRecord naming the bad field."""
    if not isinstance(data, dict):
        raise MalformedRecord(expected_seq, "line", "not a JSON object")
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise MalformedRecord(expected_seq, "seq", "not a whole number")
    if "malformed" in data:  # the store's row was not a record (broker.audit.export)
        what = data["malformed"] if isinstance(data["malformed"], dict) else {}
        raise MalformedRecord(seq, str(what.get("field", "row")), str(what.get("why", "not a record")))
    fields = {"seq", "ts", "details", "principal_roles", "allowed", *TEXT, *NULLABLE_TEXT}
    if set(data) != fields:
        extra, missing = sorted(set(data) - fields), sorted(fields - set(data))
        raise MalformedRecord(seq, (extra or missing)[0], "unexpected field" if extra else "missing")
    for name in TEXT:
        if not isinstance(data[name], str):
            raise MalformedRecord(seq, name, "not text")
    for name in NULLABLE_TEXT:
        if data[name] is not None and not isinstance(data[name], str):
            raise MalformedRecord(seq, name, "not text")
    if data["allowed"] is not None and not isinstance(data["allowed"], bool):
        raise MalformedRecord(seq, "allowed", "not true, false or null")
    roles = data["principal_roles"]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise MalformedRecord(seq, "principal_roles", "not a list of strings")
    if not isinstance(data["details"], dict):
        raise MalformedRecord(seq, "details", "not a JSON object")
    try:
        ts = parse_instant(data["ts"]) if isinstance(data["ts"], str) else None
    except ValueError:
        ts = None
    if ts is None:
        raise MalformedRecord(seq, "ts", f"not an RFC 3339 instant: {str(data['ts'])[:40]!r}")
    return AuditRecord(**{**data, "ts": ts, "principal_roles": tuple(roles)})

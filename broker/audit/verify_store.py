"""Verifying the audit log in its store: the chain, the head, every signed checkpoint and the local witness.

Used by ``camgate audit verify`` and ``GET /api/v1/audit/verify``. In one consistent snapshot: the checkpoint
rows (well formed, signed by a listed key, each naming the one before), the chain from its verified base
(the latest trusted prune checkpoint) to the head row, then every trusted checkpoint and the local witness
file must be held by the chain (:mod:`broker.audit.proof`). The witness file is what still catches a store
that was emptied, cut back or restored from an old backup after its checkpoint rows went with it.

:func:`open_existing` opens a store for reading only: it never creates a file, a folder, a schema or a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from broker.audit import checkpoint_store, witnessfile
from broker.audit.chain import VerifyResult
from broker.audit.checkpoints import Checkpoint, CheckpointError, verify_signature
from broker.audit.keys import KeyRing
from broker.audit.proof import (
    Problem,
    ProofResult,
    Row,
    Target,
    base_of,
    check_sequence,
    conclude,
    containment,
    describe,
    premature_prunes,
)
from broker.audit.reader import verify_chain
from broker.audit.writer import HEAD
from broker.errors import AuditUnavailable, ConfigError
from broker.store.db import Store, driver_problem
from broker.store.tables import audit_records

LOOKUP_CHUNK = 500
LOCAL = "the local witness"


def open_existing(url: str, schema: str | None) -> Store:
    """The store at ``url``, only if it holds an audit log; else ConfigError naming where (nothing is created)."""
    store = Store.open(url, schema=schema, must_exist=True)
    try:
        tables = set(inspect(store.engine).get_table_names())
    except SQLAlchemyError as exc:
        store.dispose()
        raise store.unavailable("inspection of", exc) from exc
    if not {"audit_records", "audit_head"} <= tables:
        store.dispose()
        raise ConfigError(f"no audit log in {store.description}: nothing was created", field="store.url")
    return store


def _hashes(conn: Connection, seqs: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    t = audit_records.c
    for i in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[i : i + LOOKUP_CHUNK]
        found.update({row.seq: row.hash for row in conn.execute(select(t.seq, t.hash).where(t.seq.in_(chunk)))})
    return found


class StoreVerifier:
    """Verifies ``store`` with the public keys of ``keys`` and its local witness file."""

    def __init__(self, store: Store, keys: KeyRing, witness_file: Path | None = None) -> None:
        self._store = store
        self._keys = keys
        self._witness = witness_file if witness_file is not None else keys.witness_file

    def verify(self) -> ProofResult:
        driver_error = self._store.engine.dialect.loaded_dbapi.Error  # raw cursor errors are not wrapped
        try:
            with self._store.begin_read() as conn:
                return self._verify(conn)
        except (SQLAlchemyError, driver_error) as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc

    def _verify(self, conn: Connection) -> ProofResult:
        keys = self._keys.public_keys()
        problems: list[Problem] = []
        notes: list[str] = []
        rows = []
        table = checkpoint_store.exists(conn)
        if table:
            rows = [Row(r.id, r.checkpoint, r.problem) for r in checkpoint_store.read_all(conn)]
        trusted, found = check_sequence(rows, keys, anchored=True)
        problems += found
        targets = [Target(cp, "the checkpoints") for cp in trusted]
        local = self._local(keys, problems, notes, signed=len(trusted))
        if local is not None:
            targets.append(Target(local, LOCAL, witnessed=True))
            if local.id not in {row.id for row in rows}:  # the signer writes the row before the file, always
                where = "the audit_checkpoints table" if table else "the store (it has no audit_checkpoints table)"
                problems.append(
                    Problem(
                        None,
                        f"{LOCAL} holds {describe(local)}, which {where} does not: checkpoint rows were deleted",
                        checkpoint=local.id,
                    )
                )
        elif not table:
            notes.append("no audit_checkpoints table (a store from before signed checkpoints): none checked")
        premature, found = premature_prunes(trusted, targets)
        problems += found
        base = base_of(cp for cp in trusted if cp.id not in premature)
        head_row = conn.execute(HEAD).first()
        chain: VerifyResult = verify_chain(conn, None if head_row is None else (head_row.seq, head_row.hash), base)
        if head_row is None:
            problems.append(Problem(None, "the audit head row is missing"))
        wanted = [t.cp.records for t in targets if base[0] < t.cp.records <= chain.records]
        held = containment(
            targets,
            floor=base,
            chain=chain,
            hashes=_hashes(conn, wanted),
            known={cp.id for cp in trusted},
            below_floor_is_problem=True,
        )
        return conclude(
            chain,
            problems + held.problems,
            base_seq=base[0],
            checked=held.checked,
            witnessed=held.witnessed,
            notes=notes + held.notes,
        )

    def _local(
        self, keys: Mapping[str, Ed25519PublicKey], problems: list[Problem], notes: list[str], *, signed: int = 0
    ) -> Checkpoint | None:
        if self._witness is None:
            notes.append("no local witness file is configured")
            return None
        try:
            cp = witnessfile.read(self._witness)
        except witnessfile.WitnessFileError as exc:
            problems.append(Problem(None, f"{LOCAL} {exc}"))
            return None
        if cp is None:
            if signed:  # a store cut back or restored after the file went is not seen: say so plainly
                notes.append(
                    f"no local witness at {self._witness}, though the log holds {signed} signed checkpoints: a"
                    " rollback of the store is not checked. Normal when verify runs on another host; otherwise"
                    " the file was deleted or left beside a rotated-out key (move it beside the new key)"
                )
            else:
                notes.append(f"no local witness at {self._witness} (no checkpoint signed yet)")
            return None
        try:
            verify_signature(cp, keys)
        except CheckpointError as exc:
            problems.append(Problem(None, f"{LOCAL} ({self._witness}): {exc}", checkpoint=cp.id))
            return None
        return cp

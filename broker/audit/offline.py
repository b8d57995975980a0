"""``camgate audit verify DIR [--witness DIR]``: an export checked on a machine with no broker.

Every hash is recomputed and every link followed, from the export's anchor (GENESIS for record 1, the prune
checkpoint's base, else the first record's ``prev_hash``: an export of part of the log) to its last record
and the head its manifest names; every checkpoint's signature is checked against the public keys (the
export's ``keys.json``, or ``--keys FILE`` obtained apart, which is stronger: an export's own keys are the
operator's word) and each must be held by the records; with ``--witness DIR`` so must every checkpoint a
witness kept. Checkpoints beyond the export's last record mean records were cut off; one the records
contradict means they were rewritten after the last checkpoint they still match.

Fast path: a line whose bytes are as :mod:`broker.audit.export` writes them is checked without parsing its
JSON: its hash is the SHA-256 of the line minus ``"hash":"…",`` and its ``seq`` and ``prev_hash`` are found
as the last top-level keys of their name (keys are sorted: nothing nested follows them). That holds the
records up to the last trusted checkpoint to the bytes that were signed (any change breaks the hash chain
to it); the records after it are parsed and their canonical form recomputed, as is every line the fast path
does not clear, so the first bad record is named exactly as :class:`~broker.audit.chain.ChainVerifier` names it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from broker.audit.chain import GENESIS, ChainVerifier, VerifyResult
from broker.audit.checkpoints import CheckpointError, verify_signature
from broker.audit.export import CHECKPOINTS, FORMAT, HASH_PREFIX, KEYS, MANIFEST, RECORDS, VERSION
from broker.audit.exportfiles import ExportError, checkpoint_rows, read_json, read_keys, read_witness_dir, record_of
from broker.audit.proof import (
    Problem,
    ProofResult,
    Target,
    base_of,
    check_sequence,
    conclude,
    containment,
    describe,
    premature_prunes,
)
from broker.audit.records import AuditRecord
from broker.audit.rows import MalformedRecord
from broker.timeutil import parse_instant

__all__ = ["ExportError", "verify_export"]

_SEQ = b',"seq":'
_PREV = b',"prev_hash":"'


class _Chain:
    """Streams ``records.jsonl`` through a ChainVerifier, remembering the hashes at ``wanted`` seqs."""

    def __init__(self, floor: tuple[int, str], head: tuple[int, str] | None, wanted: set[int], pinned: int) -> None:
        self.verifier = ChainVerifier(head)
        self.verifier.count, self.verifier.last_hash = floor
        self.verifier.before_last = ""
        self.head_seq = head[0] if head is not None else None
        self.wanted = wanted
        self.pinned = pinned  # records up to it are held to signed bytes by a trusted checkpoint
        self.hashes: dict[int, str] = {}

    def run(self, path: Path) -> VerifyResult:
        """Every line in order; the verifier's state is kept in locals on the fast path (a million lines) and
        handed back to it before the slow path and at the end."""
        chain, wanted, hashes = self.verifier, self.wanted, self.hashes
        limit = self.pinned if self.head_seq is None else min(self.pinned, self.head_seq)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            raise ExportError(f"{path}: no such file") from None
        count, last, before = chain.count, chain.last_hash.encode(), chain.before_last.encode()
        with f:
            for raw in f:
                # fast path: the line as broker.audit.export writes it, up to the last trusted checkpoint
                if raw[:9] == HASH_PREFIX and raw[73:75] == b'",' and raw[-2:] == b"}\n":
                    i = raw.rfind(_SEQ)
                    j = raw.find(b",", i + 7)
                    seq_text = raw[i + 7 : j]
                    if i > 0 and seq_text.isdigit() and int(seq_text) == count + 1 <= limit:
                        p = raw.rfind(_PREV)
                        hash_ = raw[9:73]
                        if (
                            p > 0
                            and raw[p + 14 : p + 79] == last + b'"'
                            and sha256(b"{" + raw[75:-1]).hexdigest().encode() == hash_
                        ):
                            count += 1
                            before, last = last, hash_
                            if count in wanted:
                                hashes[count] = hash_.decode()
                            continue
                chain.count, chain.last_hash, chain.before_last = count, last.decode(), before.decode()
                failed = self._slow(raw)
                if failed is not None:
                    return failed
                count, last, before = chain.count, chain.last_hash.encode(), chain.before_last.encode()
                if count in wanted:
                    hashes[count] = chain.last_hash
        chain.count, chain.last_hash, chain.before_last = count, last.decode(), before.decode()
        return chain.finish()

    def _slow(self, raw: bytes) -> VerifyResult | None:
        chain = self.verifier
        expected = chain.count + 1
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return VerifyResult(
                False, chain.count, chain.last_hash, expected, f"record {expected}'s line is not JSON ({exc})"
            )
        try:
            rec = record_of(data, expected)
        except MalformedRecord as exc:
            if exc.seq != expected:  # a gap or a record out of place comes first
                gap = chain.check(AuditRecord(seq=exc.seq, ts=datetime.now().astimezone(), kind="?"))
                if gap is not None:
                    return gap
            return VerifyResult(False, chain.count, chain.last_hash, exc.seq, str(exc))
        return chain.check(rec)


def verify_export(directory: Path, *, witness_dir: Path | None = None, keys_file: Path | None = None) -> ProofResult:
    """Verify the export in ``directory``; raises ExportError when it is not one (bad input, not tampering)."""
    manifest = read_json(directory / MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ExportError(f"{directory / MANIFEST}: not a {FORMAT} version {VERSION} manifest")
    keys = read_keys(keys_file if keys_file is not None else directory / KEYS)
    problems: list[Problem] = []
    notes: list[str] = []
    listed = list(checkpoint_rows(directory / CHECKPOINTS))
    trusted, found = check_sequence(listed, keys, anchored=bool(manifest.get("checkpoints_anchored")))
    problems += found
    targets = [Target(cp, "the export's checkpoints") for cp in trusted]
    witnessed_targets: list[Target] = []
    if witness_dir is not None:
        witnessed, bad = read_witness_dir(witness_dir)
        problems += bad
        for name, cp in witnessed:
            try:
                verify_signature(cp, keys)
            except CheckpointError as exc:
                problems.append(Problem(None, f"witness file {name}: {exc}", checkpoint=cp.id))
                continue
            witnessed_targets.append(Target(cp, f"witness file {name}", witnessed=True))
    premature, found = premature_prunes(trusted, targets + witnessed_targets)
    problems += found
    trusted_base = base_of(cp for cp in trusted if cp.id not in premature)
    try:
        floor, last, exported_at, partial = _range(manifest, trusted_base)
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"{directory / MANIFEST}: malformed ({exc})") from None
    if partial:
        notes.append(
            f"the export ends at record {last[0]} by request; the chain's head was at record "
            f"{(manifest.get('head') or {}).get('seq')}"
        )
    if floor[0] > 0 and floor[0] != trusted_base[0]:
        notes.append(f"the export starts after record {floor[0]}: records before it are not checked")
    targets += witnessed_targets
    ids = {row.id for row in listed}
    for t in witnessed_targets:  # every checkpoint whose records were exported goes with them (broker.audit.export)
        if floor[0] <= t.cp.records <= last[0] and t.cp.ts <= exported_at and t.cp.id not in ids and not partial:
            problems.append(
                Problem(
                    None,
                    f"{t.source} holds {describe(t.cp)}, which the export's checkpoints do not: checkpoints were"
                    " removed",
                    checkpoint=t.cp.id,
                )
            )
    pinned = max((cp.records for cp in trusted), default=0)
    wanted = {t.cp.records for t in targets}
    chain = _Chain(floor, last if last[0] >= floor[0] else None, wanted, pinned)
    result = chain.run(directory / RECORDS)

    def beyond_ok(t: Target) -> str | None:
        if partial:
            return f"beyond the export's range (it ends at record {last[0]}): not checked"
        if t.witnessed and t.cp.ts > exported_at:
            return "signed after the export was made: not checked"
        return None

    held = containment(
        targets,
        floor=floor,
        chain=result,
        hashes=chain.hashes,
        known={cp.id for cp in trusted},
        below_floor_is_problem=False,
        beyond_ok=beyond_ok,
    )
    out = conclude(
        result,
        problems + held.problems,
        base_seq=trusted_base[0],  # a signed prune's base; an export of part of the log starts after it
        checked=held.checked,
        witnessed=held.witnessed,
        notes=notes + held.notes,
    )
    out.extra.update(
        {
            "export": {
                "first_seq": manifest.get("first_seq"),
                "last_seq": manifest.get("last_seq"),
                "exported_at": manifest.get("exported_at"),
            },
            "keys": sorted(keys),
        }
    )
    return out


def _range(
    manifest: Mapping[str, Any], base: tuple[int, str]
) -> tuple[tuple[int, str], tuple[int, str], datetime, bool]:
    """(floor, last, exported_at, partial): the record before the first (seq, hash), the last (seq, hash)."""
    anchor = manifest["anchor"]
    floor = (int(anchor["seq"]), str(anchor["hash"]))
    if floor[0] == 0:
        floor = (0, GENESIS)
    elif floor[0] == base[0]:
        floor = base  # the prune checkpoint's signed base, not the manifest's word
    last_seq = manifest.get("last_seq")
    last = floor if last_seq is None else (int(last_seq), str(manifest["last_hash"]))
    exported_at = parse_instant(manifest["exported_at"])
    partial = not manifest.get("complete", False) and manifest.get("requested", {}).get("to") is not None
    return floor, last, exported_at, partial

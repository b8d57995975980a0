"""Checkpoints against a chain (pure, no I/O): what the store verify and the offline verify share.

A hash chain alone cannot see a log rewritten from some record on *and* its head moved, nor a tail cut with
the head moved back, nor a restored old backup. Signed checkpoints can: each says "the chain had ``records``
records, the last hashing to ``head``", so a later chain must hold that hash at that record (the consistency
idea of Certificate Transparency, RFC 9162 §2.1.4; a hash chain's consistency proof is the records between).

Three steps:

1. :func:`check_sequence`: each checkpoint is well formed, signed by a known key (RFC 8032 Ed25519), and names
   the one before it (``previous``), with records and base never going back. Checkpoints that fail are not
   trusted for what follows.
2. The caller verifies the chain from its base (the latest trusted ``prune`` checkpoint's ``base_seq`` /
   ``base_hash``, else record 0 and GENESIS), collecting the hashes at the checkpoints' records.
3. :func:`containment`: every trusted checkpoint, and every witnessed one (the local witness file, a
   witness's directory), must be held by the chain: its ``head`` at its ``records``. A checkpoint the chain
   contradicts means the records after the last checkpoint it still matches were rewritten; one beyond the
   chain's end means records were cut off (the head moved back, or the store emptied or restored).

:func:`conclude` names the first bad record over everything found (``first_bad`` is the record from which
the chain can no longer be trusted; None when only a checkpoint is wrong, named in ``checkpoint``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.chain import GENESIS, VerifyResult
from broker.audit.checkpoints import Checkpoint, CheckpointError, verify_signature
from broker.audit.records import rfc3339

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One finding: ``first_bad`` record (None: a checkpoint only), what, and the intact chain before it."""

    first_bad: int | None
    text: str
    records: int | None = None  # records up to this one form a good chain (None: as the chain found)
    head: str | None = None
    checkpoint: str | None = None  # the id of the checkpoint at fault, when one is


@dataclass(frozen=True)
class Row:
    """A checkpoint as listed (a table row, an export line): its id as listed, the checkpoint, or the problem."""

    id: str
    checkpoint: Checkpoint | None
    problem: str | None = None


@dataclass(frozen=True)
class ProofResult:
    ok: bool
    records: int
    head: str
    first_bad: int | None = None
    problem: str | None = None
    base_seq: int = 0
    checkpoints: int = 0  # trusted checkpoints the chain was found to hold
    witnessed: int = 0  # witnessed checkpoints the chain was found to hold
    checkpoint: str | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what could not be checked (not a failure)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": self.ok,
            "records": self.records,
            "head": self.head,
            "base_seq": self.base_seq,
            "checkpoints": self.checkpoints,
            "witnessed": self.witnessed,
        }
        if not self.ok:
            body |= {"first_bad": self.first_bad, "problem": self.problem, "problems": list(self.problems)}
            if self.checkpoint is not None:
                body["checkpoint"] = self.checkpoint
        if self.notes:
            body["notes"] = list(self.notes)
        return body | self.extra


def describe(cp: Checkpoint) -> str:
    """A checkpoint as problems name it: short id, kind, records, when and by which key."""
    return f"checkpoint {cp.id[:12]} ({cp.kind}, {cp.records} records, signed {rfc3339(cp.ts)} by key {cp.key_id})"


def check_sequence(
    rows: Iterable[Row], keys: Mapping[str, Ed25519PublicKey], *, anchored: bool
) -> tuple[list[Checkpoint], list[Problem]]:
    """The trusted checkpoints of ``rows`` (in signing order) and the problems found.

    ``anchored``: the rows start at the first checkpoint ever signed (its ``previous`` is null); else the first
    row's ``previous`` is taken as given (an export of part of the log).
    """
    trusted: list[Checkpoint] = []
    problems: list[Problem] = []
    before: str | None = None
    last: Checkpoint | None = None
    first = True
    for row in rows:
        cp = row.checkpoint
        if cp is None or row.problem is not None:
            problems.append(Problem(None, row.problem or "a checkpoint row is malformed", checkpoint=row.id))
            before, first = row.id, False
            continue
        if (not first or anchored) and cp.previous != before:
            expected = "none (the first checkpoint)" if before is None else f"checkpoint {before[:12]}"
            problems.append(
                Problem(
                    None,
                    f"{describe(cp)} names {(cp.previous or 'none')[:12]} before it, where the list has {expected}:"
                    " checkpoints were removed, inserted or reordered",
                    checkpoint=cp.id,
                )
            )
        before, first = row.id, False
        try:
            verify_signature(cp, keys)
        except CheckpointError as exc:
            problems.append(Problem(None, f"{exc}: a forged checkpoint, or its key is not listed", checkpoint=cp.id))
            continue
        if last is not None and (cp.records < last.records or cp.base_seq < last.base_seq):
            problems.append(
                Problem(
                    None,
                    f"{describe(cp)} goes back from {describe(last)}: a signed checkpoint never does",
                    checkpoint=cp.id,
                )
            )
        elif last is not None and cp.ts < last.ts - MAX_CLOCK_SKEW:  # e.g. a prune dated a year ahead (see below)
            problems.append(
                Problem(None, f"{describe(cp)} was signed before {describe(last)}, which it follows", checkpoint=cp.id)
            )
        trusted.append(cp)
        last = cp
    return trusted, problems


# Replicas sign with their own clocks: checkpoints in sequence may step back this much, no more.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# CJIS Security Policy 5.4.7: audit records are kept at least a year (audit.retention_days refuses less); a day
# less here, for the clocks of several replicas.
MIN_RETENTION = timedelta(days=364)


def premature_prunes(trusted: Iterable[Checkpoint], evidence: Iterable[Target]) -> tuple[set[str], list[Problem]]:
    """The prune checkpoints that deleted records younger than the minimum retention, and a problem for each.

    A checkpoint of ``records`` signed at ``ts`` means records after it did not exist yet at ``ts``. So if any
    checkpoint (the log's, or one a witness holds) has fewer records than a prune's ``base_seq`` and was signed
    less than a year before the prune, that prune deleted records less than a year old: not retention, but a
    signing key deleting history (a leaked key, or an insider). Such a prune does not move the chain's base.
    """
    prunes = [cp for cp in trusted if cp.kind == "prune" and cp.base_seq > 0]
    seen = list(evidence)
    bad: set[str] = set()
    problems: list[Problem] = []
    for prune in prunes:
        young = [t for t in seen if t.cp.records < prune.base_seq and t.cp.ts > prune.ts - MIN_RETENTION]
        if not young:
            continue
        t = max(young, key=lambda u: (u.cp.ts, u.cp.records))
        bad.add(prune.id)
        problems.append(
            Problem(
                t.cp.records + 1,
                f"{describe(prune)} deleted records up to {prune.base_seq}, but {describe(t.cp)} from {t.source} shows"
                f" that record {t.cp.records + 1} on were written after {rfc3339(t.cp.ts)}, less than a year before"
                " the prune (CJIS 5.4.7): records were deleted as if pruned",
                records=t.cp.records,  # as far as a checkpoint vouches; the records after it are gone
                head=t.cp.head,
                checkpoint=prune.id,
            )
        )
    return bad, problems


def base_of(trusted: Iterable[Checkpoint]) -> tuple[int, str]:
    """The chain's verified base: the latest trusted prune checkpoint's (base_seq, base_hash), or (0, GENESIS)."""
    base = (0, GENESIS)
    for cp in trusted:
        if cp.kind == "prune" and cp.base_seq >= base[0]:
            base = (cp.base_seq, cp.base_hash)
    return base


@dataclass
class Target:
    """A checkpoint to find in the chain, and where it came from (``the checkpoints``, ``the local witness``...)."""

    cp: Checkpoint
    source: str
    witnessed: bool = False


@dataclass
class Containment:
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    witnessed: int = 0
    notes: list[str] = field(default_factory=list)


def containment(
    targets: Iterable[Target],
    *,
    floor: tuple[int, str],
    chain: VerifyResult,
    hashes: Mapping[int, str],
    known: set[str],
    below_floor_is_problem: bool,
    beyond_ok: Callable[[Target], str | None] | None = None,
) -> Containment:
    """Whether the chain holds each target: ``hashes`` maps record seq to hash for the chain's verified part
    (``floor`` seq < seq <= ``chain.records``); ``floor`` = (seq, hash) is the lowest record whose hash is known.

    ``known``: ids of the trusted checkpoints (a target below the floor is held if it is one of them); else it is
    a problem when ``below_floor_is_problem``, a note otherwise. ``beyond_ok(target)``: a reason why a target
    beyond the chain's end is not a problem (None: it is).
    """
    out = Containment()
    last_ok = floor
    # A witnessed checkpoint is held apart from the log; the log's own checkpoints are not. When a witnessed one
    # contradicts the records and a trusted checkpoint of the log at or after it agrees with them, the signing key
    # signed two histories (the log's checkpoints were signed again): only witnessed ones still vouch for records.
    last_witnessed_ok = floor
    seen: set[str] = set()
    chain_whole = chain.ok
    ordered = sorted(targets, key=lambda t: (t.cp.records, t.cp.ts))

    def _held(cp: Checkpoint) -> str | None:
        return floor[1] if cp.records == floor[0] else hashes.get(cp.records)

    for t in ordered:
        cp = t.cp
        if cp.id in seen and not t.witnessed:
            continue
        seen.add(cp.id)
        if cp.records < floor[0]:
            if cp.id in known:
                out.checked += not t.witnessed
                out.witnessed += t.witnessed
            elif below_floor_is_problem:
                out.problems.append(
                    Problem(
                        None,
                        f"{describe(cp)} from {t.source} precedes the chain's base (record {floor[0]}) and is not"
                        " among the log's checkpoints: checkpoints were removed",
                        checkpoint=cp.id,
                    )
                )
            else:
                out.notes.append(f"{describe(cp)} from {t.source} precedes the records at hand: not checked")
            continue
        if cp.records > chain.records:
            if not chain_whole:
                continue  # the chain is already broken before it: that is the finding
            reason = beyond_ok(t) if beyond_ok is not None else None
            if reason is not None:
                out.notes.append(f"{describe(cp)} from {t.source}: {reason}")
                continue
            # name the furthest checkpoint the chain should reach: all that is missing
            far = max(
                (u for u in ordered if u.cp.records > chain.records and (beyond_ok is None or beyond_ok(u) is None)),
                key=lambda u: (u.cp.records, u.cp.ts),
            )
            out.problems.append(
                Problem(
                    chain.records + 1,
                    f"records {chain.records + 1}-{far.cp.records} are missing: {describe(far.cp)} from {far.source}"
                    f" holds {far.cp.records} records, the chain ends at record {chain.records}"
                    " (cut back, emptied or rolled back)",
                    checkpoint=far.cp.id,
                )
            )
            break
        if _held(cp) == cp.head:
            last_ok = (cp.records, cp.head)
            if t.witnessed:
                last_witnessed_ok = last_ok
            out.checked += not t.witnessed
            out.witnessed += t.witnessed
            continue
        where = f"record {cp.records}" if cp.records > floor[0] else f"the chain's base (record {floor[0]})"
        good, resigned = last_ok, ""
        agreeing = [
            u.cp
            for u in ordered
            if not u.witnessed and cp.records <= u.cp.records <= chain.records and _held(u.cp) == u.cp.head
        ]
        if t.witnessed and agreeing:
            good = last_witnessed_ok
            resigned = (
                f"; {describe(agreeing[0])} from the log agrees with the records instead: the signing key signed two"
                " histories (the log's checkpoints were signed again), so only witnessed checkpoints vouch for records"
            )
        out.problems.append(
            Problem(
                good[0] + 1,
                f"{where} does not match {describe(cp)} from {t.source}: the records after record {good[0]}"
                f" (up to {cp.records}) were rewritten or replaced{resigned}",
                records=good[0],
                head=good[1],
                checkpoint=cp.id,
            )
        )
        break
    return out


def conclude(
    chain: VerifyResult,
    problems: Iterable[Problem],
    *,
    base_seq: int,
    checked: int,
    witnessed: int,
    notes: Iterable[str] = (),
) -> ProofResult:
    """One result: the chain's own finding and every other, the one naming the lowest first bad record first."""
    found = list(problems)
    if not chain.ok:
        found.append(Problem(chain.first_bad, chain.problem or "the chain is broken"))
    if not found:
        return ProofResult(
            True,
            chain.records,
            chain.head,
            base_seq=base_seq,
            checkpoints=checked,
            witnessed=witnessed,
            notes=tuple(notes),
        )
    found.sort(key=lambda p: (p.first_bad is None, p.first_bad or 0))
    first = found[0]
    records = first.records if first.records is not None else chain.records
    head = first.head if first.head is not None else chain.head
    texts = tuple(p.text for p in found[:MAX_PROBLEMS])
    return ProofResult(
        False,
        records,
        head,
        first.first_bad,
        first.text,
        base_seq=base_seq,
        checkpoints=checked,
        witnessed=witnessed,
        checkpoint=first.checkpoint,
        problems=texts,
        notes=tuple(notes),
    )

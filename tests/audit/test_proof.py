"""Checkpoints against a chain (pure): the sequence rules, the base, containment and the first bad record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit.chain import GENESIS, VerifyResult
from broker.audit.checkpoints import Checkpoint, key_id, sign
from broker.audit.proof import Row, Target, base_of, check_sequence, conclude, containment

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
KEYS = {key_id(KEY.public_key()): KEY.public_key()}
H = {n: f"{n:064x}" for n in range(0, 101)}  # the chain's hash of record n (made up)


def _cp(records: int, previous: str | None, n: int = 0, **kw: object) -> Checkpoint:
    body = {
        "records": records,
        "head": H[records],
        "ts": T0 + timedelta(minutes=n),
        "key_id": key_id(KEY.public_key()),
        "previous": previous,
    } | kw
    return sign(Checkpoint(**body), KEY)  # type: ignore[arg-type]


def _linked(*records: int) -> list[Checkpoint]:
    out: list[Checkpoint] = []
    for n, r in enumerate(records):
        out.append(_cp(r, out[-1].id if out else None, n))
    return out


def _rows(cps: list[Checkpoint]) -> list[Row]:
    return [Row(cp.id, cp) for cp in cps]


def test_a_good_sequence_is_all_trusted() -> None:
    cps = _linked(10, 20, 30)
    trusted, problems = check_sequence(_rows(cps), KEYS, anchored=True)
    assert trusted == cps and problems == []


def test_a_removed_checkpoint_breaks_the_links() -> None:
    cps = _linked(10, 20, 30)
    _, problems = check_sequence(_rows([cps[0], cps[2]]), KEYS, anchored=True)
    assert [p.checkpoint for p in problems] == [cps[2].id] and "removed, inserted or reordered" in problems[0].text
    _, problems = check_sequence(_rows(cps[1:]), KEYS, anchored=True)  # the first one missing
    assert problems and problems[0].checkpoint == cps[1].id
    assert check_sequence(_rows(cps[1:]), KEYS, anchored=False)[1] == []  # an export of part of the log


def test_a_checkpoint_never_goes_back() -> None:
    first = _cp(20, None)
    back = _cp(10, first.id, 1)
    trusted, problems = check_sequence(_rows([first, back]), KEYS, anchored=True)
    assert "goes back" in problems[0].text and trusted == [first, back]


def test_the_base_is_the_latest_trusted_prune() -> None:
    a = _cp(10, None)
    prune = _cp(20, a.id, 1, kind="prune", base_seq=5, base_hash=H[5])
    later = _cp(30, prune.id, 2, base_seq=5, base_hash=H[5])
    assert base_of([a]) == (0, GENESIS)
    assert base_of([a, prune, later]) == (5, H[5])


@pytest.mark.parametrize(
    ("chain_records", "hashes", "first_bad", "says"),
    [
        (30, {10: H[10], 20: H[20], 30: H[30]}, None, None),
        (30, {10: H[10], 20: "e" * 64, 30: "f" * 64}, 11, "the records after record 10 (up to 20) were rewritten"),
        (25, {10: H[10], 20: H[20]}, 26, "records 26-30 are missing"),
    ],
)
def test_containment(chain_records: int, hashes: dict[int, str], first_bad: int | None, says: str | None) -> None:
    cps = _linked(10, 20, 30)
    chain = VerifyResult(True, chain_records, hashes.get(chain_records, H[chain_records]))
    held = containment(
        [Target(cp, "the checkpoints") for cp in cps],
        floor=(0, GENESIS),
        chain=chain,
        hashes=hashes,
        known={cp.id for cp in cps},
        below_floor_is_problem=True,
    )
    result = conclude(chain, held.problems, base_seq=0, checked=held.checked, witnessed=held.witnessed)
    assert result.first_bad == first_bad, result
    if says is None:
        assert result.ok and result.checkpoints == 3
    else:
        assert says in (result.problem or "")
    if first_bad == 11:
        assert (result.records, result.head) == (10, H[10])  # the intact prefix: up to the last checkpoint held


def test_below_the_floor_and_beyond_the_end() -> None:
    cps = _linked(10, 20, 30)
    chain = VerifyResult(True, 25, H[25])
    targets = [Target(cps[0], "a witness", witnessed=True), Target(cps[2], "a witness", witnessed=True)]
    held = containment(
        targets,
        floor=(15, H[15]),
        chain=chain,
        hashes={},
        known=set(),
        below_floor_is_problem=False,
        beyond_ok=lambda t: "signed after the export was made",
    )
    assert held.problems == [] and len(held.notes) == 2
    held = containment(targets, floor=(15, H[15]), chain=chain, hashes={}, known=set(), below_floor_is_problem=True)
    assert [p.first_bad for p in held.problems] == [None, 26]


def test_a_broken_chain_is_the_finding_not_the_checkpoints_beyond_it() -> None:
    cps = _linked(10, 20)
    chain = VerifyResult(False, 14, H[14], 15, "record 15 was modified")
    held = containment(
        [Target(cp, "the checkpoints") for cp in cps],
        floor=(0, GENESIS),
        chain=chain,
        hashes={10: H[10]},
        known=set(),
        below_floor_is_problem=True,
    )
    result = conclude(chain, held.problems, base_seq=0, checked=held.checked, witnessed=held.witnessed)
    assert (result.first_bad, result.problem, result.checkpoints) == (15, "record 15 was modified", 1)


def test_a_witness_contradicting_re_signed_checkpoints_leaves_only_witnessed_records_vouched_for() -> None:
    cps = _linked(10, 20, 30)  # the log's own checkpoints: they agree with its records (signed again)
    real = {n: f"{n + 1000:064x}" for n in (10, 20, 30)}
    witnessed = [
        Target(_cp(10, None, head=H[10]), "witness file a", witnessed=True),  # before the rewrite
        Target(_cp(20, None, 1, head=real[20]), "witness file b", witnessed=True),
    ]
    chain = VerifyResult(True, 30, H[30])
    held = containment(
        [Target(cp, "the checkpoints") for cp in cps] + witnessed,
        floor=(0, GENESIS),
        chain=chain,
        hashes={n: H[n] for n in (10, 20, 30)},
        known={cp.id for cp in cps},
        below_floor_is_problem=True,
    )
    result = conclude(chain, held.problems, base_seq=0, checked=held.checked, witnessed=held.witnessed)
    assert (result.first_bad, result.records, result.head) == (11, 10, H[10]), result
    assert "signed again" in (result.problem or "")
    held = containment(  # only the later witness: nothing is vouched for
        [Target(cp, "the checkpoints") for cp in cps] + witnessed[1:],
        floor=(0, GENESIS),
        chain=chain,
        hashes={n: H[n] for n in (10, 20, 30)},
        known={cp.id for cp in cps},
        below_floor_is_problem=True,
    )
    assert [(p.first_bad, p.records) for p in held.problems] == [(1, 0)]


def test_a_checkpoint_signed_before_the_one_it_follows_is_named() -> None:
    """A prune dated a year ahead would escape the one-year rule; the broker's next checkpoint steps back from it."""
    first = _cp(10, None, 0)
    ahead = _cp(20, first.id, 60 * 24 * 400)
    after = _cp(30, ahead.id, 1)
    _, problems = check_sequence(_rows([first, ahead, after]), KEYS, anchored=True)
    assert [p.checkpoint for p in problems] == [after.id] and "was signed before" in problems[0].text
    a = _cp(10, None, 10)
    b = _cp(20, a.id, 8)  # two minutes behind the one before: another replica's clock
    assert check_sequence(_rows([a, b]), KEYS, anchored=True)[1] == []

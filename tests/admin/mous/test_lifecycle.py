"""The states of stored MOU versions, derived from facts and an instant (broker/admin/mous/lifecycle.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from broker.admin.mous.lifecycle import derive, enforced
from broker.documents.loader import parse_mou_text
from broker.documents.mou import Mou
from broker.store.mous import Approval, MouFacts, Revision, Termination
from tests.paths import REPO

TEXT = (REPO / "policies" / "mou" / "mou-ncps-ncpd.yaml").read_bytes()
T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def doc(version: int, effective: date = date(2026, 7, 1), expires: date = date(2027, 6, 30)) -> Mou:
    parsed, issues = parse_mou_text(TEXT, "x.yaml", None)
    assert parsed is not None, issues
    return parsed.model_copy(update={"version": version, "effective": effective, "expires": expires})


def rev(version: int, revision: int = 1, sha: str = "a", imported: bool = False) -> Revision:
    return Revision("m", version, revision, "text", sha * 64, "n", "it", "ncps", T0, imported)


def ap(version: int, agency: str, at: datetime = T0, sha: str = "a", withdrawn: datetime | None = None) -> Approval:
    return Approval(0, "m", version, sha * 64, agency, agency + "-user", "r", at, withdrawn)


def states(facts: MouFacts, docs: dict[tuple[int, int], Mou | None], now: datetime = T0) -> list[str]:
    return [v.state for v in derive(facts, docs, now).versions]


def test_draft_proposed_approved_in_force_superseded() -> None:
    docs = {(3, 1): doc(3), (4, 1): doc(4, effective=date(2026, 9, 20))}
    facts = MouFacts("m", [rev(3, imported=True), rev(4)], [])
    assert states(facts, docs) == ["in_force", "draft"]
    facts.approvals.append(ap(4, "ncps"))
    assert states(facts, docs) == ["in_force", "proposed"]
    facts.approvals.append(ap(4, "ncpd"))
    assert states(facts, docs) == ["in_force", "approved"]
    start = datetime(2026, 9, 20, 4, 0, tzinfo=UTC)  # 00:00 EDT
    state = derive(facts, docs, T0)
    current, nxt = enforced(state)
    assert (current and current.version, nxt and nxt.version, nxt and nxt.start) == (3, 4, start)
    assert states(facts, docs, start - timedelta(microseconds=1)) == ["in_force", "approved"]
    assert states(facts, docs, start) == ["superseded", "in_force"]
    assert enforced(derive(facts, docs, start))[0].version == 4  # type: ignore[union-attr]


def test_approvals_count_for_the_current_hash_only_and_until_withdrawn() -> None:
    docs = {(4, 2): doc(4)}
    facts = MouFacts("m", [rev(4, 1, "a"), rev(4, 2, "b")], [ap(4, "ncps", sha="a"), ap(4, "ncpd", sha="b")])
    v = derive(facts, docs, T0).versions[0]
    assert v.state == "proposed" and v.missing == ("ncps",) and [a.agency for a in v.stale] == ["ncps"]
    facts.approvals[1] = ap(4, "ncpd", sha="b", withdrawn=T0)
    assert states(facts, docs) == ["draft"]


def test_effect_at_the_last_approval_when_effective_is_past_then_expiry() -> None:
    later = T0 + timedelta(hours=2)
    facts = MouFacts("m", [rev(1)], [ap(1, "ncps"), ap(1, "ncpd", at=later)])
    docs = {(1, 1): doc(1, expires=date(2026, 9, 30))}
    assert states(facts, docs, later + timedelta(seconds=1)) == ["in_force"]
    assert derive(facts, docs, later).versions[0].start == later
    assert states(facts, docs, datetime(2026, 10, 1, 4, 0, tzinfo=UTC)) == ["expired"]


def test_termination_ends_every_version_and_enforces_nothing() -> None:
    end = T0 + timedelta(hours=1)
    facts = MouFacts("m", [rev(3, imported=True), rev(4)], [], Termination("m", "ncps", "it", "reason given", end))
    docs = {(3, 1): doc(3), (4, 1): doc(4)}
    state = derive(facts, docs, end)
    assert [v.state for v in state.versions] == ["terminated", "terminated"]
    assert enforced(state) == (None, None)
    assert states(facts, docs, end - timedelta(seconds=1)) == ["in_force", "draft"]  # not yet, a second before


def test_a_version_waiting_for_its_date_is_enforced_when_none_started() -> None:
    facts = MouFacts("m", [rev(1)], [ap(1, "ncps"), ap(1, "ncpd")])
    state = derive(facts, {(1, 1): doc(1, effective=date(2026, 10, 1))}, T0)
    current, nxt = enforced(state)
    assert current is not None and current.state == "approved" and nxt is None  # denied mou_not_in_effect till then


def test_an_unparsable_text_is_never_in_force() -> None:
    facts = MouFacts("m", [rev(1)], [ap(1, "ncps"), ap(1, "ncpd")])
    v = derive(facts, {(1, 1): None}, T0).versions[0]
    assert (
        v.state == "proposed"
        and v.parties == ()
        and v.start is None
        and enforced(derive(facts, {(1, 1): None}, T0)) == (None, None)
    )

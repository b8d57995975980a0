"""Which roster revision is in force (broker/admin/mous/roster.py, pure) and what a posted roster may hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.admin.mous.roster import change, derive_roster, parse_roster
from broker.admin.mous.rosterservice import RosterService
from broker.errors import InvalidRequest, PermissionDenied
from broker.store.rosters import (
    EMPTY_SHA256,
    RosterApproval,
    RosterEntry,
    RosterFacts,
    RosterRevision,
    canonical,
    digest,
)

AT = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
KIM = RosterEntry("pd", "kim", "Kim")
LEE = RosterEntry("pd", "lee", "Lee")
PARTIES = ("sd", "pd")


def rev(n: int, *entries: RosterEntry) -> RosterRevision:
    return RosterRevision("m", n, entries, digest(canonical(entries)), "it", "sd", AT)


def ok(r: RosterRevision, agency: str, sha: str | None = None) -> RosterApproval:
    return RosterApproval("m", r.revision, sha or r.sha256, agency, "x", "approver", AT)


def test_no_revision_is_an_empty_roster() -> None:
    state = derive_roster(RosterFacts("m"), False, PARTIES)
    assert (state.in_force, state.pending, state.pairs(), state.sha256) == (None, None, frozenset(), EMPTY_SHA256)


def test_without_countersign_the_newest_is_in_force() -> None:
    one, two = rev(1, KIM), rev(2, LEE)
    state = derive_roster(RosterFacts("m", [one, two]), False, PARTIES)
    assert state.in_force == two and state.pending is None and state.pairs() == {("pd", "lee")}
    assert state.states == {1: "superseded", 2: "in_force"}


def test_with_countersign_every_party_must_approve_the_exact_hash() -> None:
    one, two, three = rev(1, KIM), rev(2, LEE), rev(3, KIM, LEE)
    facts = RosterFacts(
        "m", [one, two, three], [ok(one, "sd"), ok(one, "pd"), ok(two, "sd"), ok(three, "pd", "0" * 64)]
    )
    state = derive_roster(facts, True, PARTIES)
    assert state.in_force == one and state.pending == three and state.pairs() == {("pd", "kim")}
    assert state.states == {1: "in_force", 2: "not_approved", 3: "pending"}
    assert state.missing == ("sd", "pd")  # pd approved another hash
    facts.approvals += [ok(three, "sd"), ok(three, "pd")]
    state = derive_roster(facts, True, PARTIES)
    assert (state.in_force, state.pending, state.states[1]) == (three, None, "superseded")


def test_parse_roster_names_the_field() -> None:
    entries = parse_roster({"entries": [KIM.to_dict(), LEE.to_dict()]}, {"pd"})
    assert entries == [KIM, LEE]
    for body, field in (
        ({"entries": [KIM.to_dict(), KIM.to_dict()]}, "entries[1].sub"),
        ({"entries": [KIM.to_dict() | {"name": ""}]}, "entries[0].name"),
        ({"entries": [KIM.to_dict() | {"sub": " kim"}]}, "entries[0].sub"),
        ({"entries": [KIM.to_dict() | {"agency": "sd"}]}, "entries[0].agency"),
        ({"entries": [KIM.to_dict() | {"x": 1}]}, "entries[0]"),
        ({"entries": "kim"}, "entries"),
        ({"entries": [{"agency": "pd", "sub": f"u{i}", "name": "n"} for i in range(5001)]}, "entries"),
    ):
        with pytest.raises(InvalidRequest) as raised:
            parse_roster(body, {"pd"})
        assert raised.value.field == field, body


def test_a_recipient_changes_only_its_own_entries() -> None:
    fire = RosterEntry("fd", "ff", "Fire")
    RosterService._own_only("pd", [KIM, fire], [LEE, fire])  # its own: fine
    with pytest.raises(PermissionDenied) as raised:
        RosterService._own_only("pd", [KIM, fire], [KIM])
    assert raised.value.details.get("reason") == "not_your_agency"
    assert change(rev(1, KIM), [LEE, RosterEntry("pd", "kim", "Kim R.")]) == (["lee"], [])


def test_names_in_every_script_are_kept_and_bidi_overrides_are_refused_naming_the_character() -> None:
    names = ["مهدی\u200czاده", "שוטר כהן", "José Ñúñez", "Zoë 👮\u200d♀️", "O’Brien", "Åsa\u0301"]
    body = {"entries": [{"agency": "pd", "sub": f"u{i}", "name": n} for i, n in enumerate(names)]}
    assert [e.name for e in parse_roster(body, {"pd"})] == names  # Persian ZWNJ, emoji ZWJ: a name as written
    for bad in ("\u202eKim", "Kim\u2066x", "Kim\x00", "Kim\x07"):
        with pytest.raises(InvalidRequest) as raised:
            parse_roster({"entries": [KIM.to_dict() | {"name": bad}]}, {"pd"})
        assert raised.value.field == "entries[0].name"
        assert "U+" in str(raised.value), str(raised.value)
    with pytest.raises(InvalidRequest) as raised:  # a sub is an identifier: no joiner in it
        parse_roster({"entries": [KIM.to_dict() | {"sub": "ki\u200cm"}]}, {"pd"})
    assert raised.value.field == "entries[0].sub"

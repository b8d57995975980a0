"""The MOU roster in the decision point (issue 14, item 5; contract sections 2 and 4): ``not_on_roster``, where it
is checked and how it ranks."""

from __future__ import annotations

from typing import Any

import pytest

from broker.documents.inventory import Inventory
from broker.documents.mou import Mou, check_mou
from broker.policy import DecisionPoint, Principal, compile_policy
from broker.policy.compile import Rosters
from broker.policy.types import DENY_PRECEDENCE
from tests.paths import MODEL
from tests.policy.builders import INVENTORY, MOU, emergency, mou, request

KIM = Principal.of("kim", "pd", ["officer"])  # on the roster
LEE = Principal.of("lee", "pd", ["officer"])  # not on it
CLERK = Principal.of("kim", "pd", ["clerk"])
ROSTERED = mou(roster={"agencies": ["pd"]})
ON_ROSTER: Rosters = {"sd-pd": frozenset({("pd", "kim")})}
E1 = emergency()


def decide_with(*mous: dict[str, Any], rosters: Rosters | None = None) -> DecisionPoint:
    docs = [Mou.model_validate(m) for m in mous]
    return DecisionPoint(compile_policy(Inventory.model_validate(INVENTORY), docs, MODEL.read_text(), rosters))


# id, principal, request kwargs, (allowed, reason, mou, grant, clause, emergency)
ROSTER_CASES = [
    ("on-roster-allowed", KIM, {"camera": "hs-ext"}, (True, "allowed", "sd-pd", "G1", "4.1", None)),
    (
        "on-roster-emergency",
        KIM,
        {"camera": "hs-int", "emergencies": (E1,)},
        (True, "allowed", "sd-pd", "G2", "4.2", "E1"),
    ),
    ("not_on_roster", LEE, {"camera": "hs-ext"}, (False, "not_on_roster", "sd-pd", "G1", "4.1", None)),
    # an emergency would not let her in: not_on_roster, not no_emergency
    ("not_on_roster-no-emergency", LEE, {"camera": "hs-int"}, (False, "not_on_roster", "sd-pd", "G2", "4.2", None)),
    (
        "not_on_roster-in-emergency",
        LEE,
        {"camera": "hs-int", "emergencies": (E1,)},
        (False, "not_on_roster", "sd-pd", "G2", "4.2", None),
    ),
    # nothing applies to a clerk at all, roster or not: no grant is the answer
    (
        "no_matching_grant-before-roster",
        CLERK,
        {"camera": "hs-ext"},
        (False, "no_matching_grant", "sd-pd", None, None, None),
    ),
    # a never zone denies before any roster is looked at
    ("never-before-roster", LEE, {"camera": "hs-res"}, (False, "never_shared_zone", "sd-pd", None, None, None)),
    (
        "unclassified-before-roster",
        LEE,
        {"camera": "hs-odd"},
        (False, "unclassified_camera", "sd-pd", None, None, None),
    ),
]


@pytest.mark.parametrize(("who", "kw", "want"), [c[1:] for c in ROSTER_CASES], ids=[c[0] for c in ROSTER_CASES])
def test_roster_reason(who: Principal, kw: dict[str, Any], want: tuple[Any, ...]) -> None:
    camera = kw.pop("camera")
    d = decide_with(ROSTERED, rosters=ON_ROSTER).decide(request(camera, principal=who, **kw))
    assert (d.allowed, d.reason, d.mou, d.grant, d.clause, d.emergency) == want


def test_an_mou_without_a_roster_and_a_missing_roster() -> None:
    assert decide_with(MOU).decide(request("hs-ext", principal=LEE)).allowed  # no roster field: not checked
    # a roster field and no roster stored yet: nobody of the agency (fail closed)
    assert decide_with(ROSTERED).decide(request("hs-ext", principal=KIM)).reason == "not_on_roster"


def test_the_roster_is_per_agency_and_sub() -> None:
    fire = Principal.of("kim", "fd", ["officer"])  # the same sub in another agency is someone else
    doc = mou(
        parties={"owner": "sd", "recipients": ["pd", "fd"]},
        roster={"agencies": ["pd"]},
        grants=[*MOU["grants"], {**MOU["grants"][0], "id": "G9", "agency": "fd"}],
    )
    pdp = decide_with(doc, rosters={"sd-pd": frozenset({("fd", "lee")})})
    assert pdp.decide(request("hs-ext", principal=fire)).allowed  # fd needs no roster
    assert pdp.decide(request("hs-ext", principal=LEE)).reason == "not_on_roster"  # ("fd","lee") is not pd's lee


def test_precedence_across_mous() -> None:
    """A rostered MOU says not_on_roster; another MOU's outside_playback_window still wins (a shorter window would be
    allowed), and not_on_roster wins over another MOU's no_emergency and outside_schedule."""
    assert DENY_PRECEDENCE.index("not_on_roster") == 1
    other = mou(mou="sd-pd-2", grants=[{**MOU["grants"][0], "id": "H1", "clause": "9.1"}])  # G1's schedule again
    window = ("2026-09-01T12:00:00Z", "2026-09-01T12:10:00Z")  # older than 7 days: outside H1's playback
    pdp = decide_with(ROSTERED, other)
    d = pdp.decide(request("hs-ext", "playback", principal=LEE, window=window))
    assert (d.reason, d.mou, d.grant) == ("outside_playback_window", "sd-pd-2", "H1")
    emergency_only = mou(mou="sd-pa", grants=[MOU["grants"][1]])  # earlier in id order, no emergency declared
    d = decide_with(ROSTERED, emergency_only).decide(request("hs-int", principal=LEE))
    assert (d.reason, d.mou) == ("not_on_roster", "sd-pd")
    assert [y[0] for y in d.yielded] == ["no_emergency", "not_on_roster"]
    saturday = mou(mou="sd-pa")  # the same schedule: Saturday is outside it
    from tests.policy.test_reasons import SATURDAY

    d = decide_with(ROSTERED, saturday).decide(request("hs-ext", principal=LEE, at=SATURDAY))
    assert (d.reason, d.mou) == ("not_on_roster", "sd-pd")


def test_roster_validation() -> None:
    doc = Mou.model_validate(mou(roster={"agencies": ["sd", "pd", "pd"]}))
    issues = check_mou(doc, None)
    assert (("roster", "agencies", 0), "agency 'sd' is not in parties.recipients") in issues
    assert (("roster", "agencies", 2), "duplicate agency 'pd'") in issues
    with pytest.raises(ValueError, match="at least 1"):
        Mou.model_validate(mou(roster={"agencies": []}))
    with pytest.raises(ValueError, match="extra"):
        Mou.model_validate(mou(roster={"agencies": ["pd"], "sign": True}))


def test_the_sharing_table_answers_for_the_named_people() -> None:
    from broker.policy.sharing import share_camera

    def live(pdp: DecisionPoint) -> set[tuple[bool, str]]:
        camera = pdp.policy.cameras["hs-ext"]
        return {(s.shared, s.reason) for s in share_camera(pdp, camera, request("hs-ext").at, actions=("live",))}

    assert live(decide_with(ROSTERED, rosters=ON_ROSTER)) == {(True, "allowed")}  # what Kim gets
    assert live(decide_with(ROSTERED)) == {(False, "not_on_roster")}  # nobody is named


def test_the_roster_in_plain_words() -> None:
    from broker.policy.plainwords import Names, describe_mou

    names = Names({"pd": "Police"}, {})
    assert describe_mou(Mou.model_validate(MOU), names).roster is None
    words = describe_mou(Mou.model_validate(mou(roster={"agencies": ["pd"], "countersign": True})), names).roster
    assert words == (
        "Only the Police staff named on the MOU's roster may use its grants; a roster change takes effect once every "
        "party approved it."
    )

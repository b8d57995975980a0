"""What partner agencies may see of a camera now (``broker/policy/sharing.py``): the decision point's own answers,
checked against the contract's examples so the sharing view cannot disagree with a real decision."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from broker.cli.decide import load_pdp
from broker.documents.mou import Mou
from broker.errors import InvalidRequest
from broker.policy import DecisionPoint
from broker.policy.sharing import REPRESENTATIVE_SUB, Sharing, owner_roles, recipients, roles_asked, share_camera
from broker.policy.wire import parse_request
from tests.paths import EXAMPLE, EXAMPLE_INVENTORY, EXAMPLE_MOUS
from tests.policy.builders import INVENTORY, MONDAY_MORNING, MOU, emergency, mou, pdp

REQUESTS = (EXAMPLE / "requests.jsonl").read_text().splitlines()
ANSWERS = [json.loads(line) for line in (EXAMPLE / "answers.jsonl").read_text().splitlines()]
FIELDS = ("allowed", "reason", "mou", "grant", "clause", "emergency")


@pytest.fixture(scope="module")
def example_pdp() -> DecisionPoint:
    return load_pdp(str(EXAMPLE_INVENTORY), [str(EXAMPLE_MOUS)])


def answer_of(s: Sharing) -> dict[str, Any]:
    return {"allowed": s.shared, "reason": s.reason, "mou": s.mou, "grant": s.grant, "clause": s.clause,
            "emergency": s.emergency}  # fmt: skip


@pytest.mark.parametrize("n", range(len(REQUESTS)))
def test_the_sharing_view_agrees_with_every_contract_example(example_pdp: DecisionPoint, n: int) -> None:
    """Each example request, asked as "what may this agency's role see of this camera now", gets the example's
    answer; playback/export are asked for the footage recorded just now, so a window the example refuses as
    too old (``outside_playback_window``) is shared now under the same grant."""
    try:
        req = parse_request(json.loads(REQUESTS[n]))
    except InvalidRequest:
        assert "error" in ANSWERS[n]
        return
    expected = ANSWERS[n]
    camera = example_pdp.camera(req.camera)
    if camera is None:
        assert expected["reason"] == "unknown_camera"
        return
    (role,) = req.principal.roles  # every example principal has one role
    answers = share_camera(example_pdp, camera, req.at, req.emergencies, actions=[req.action])
    if req.principal.agency not in recipients(example_pdp.policy, camera.site):
        assert expected["reason"] == "no_mou" and all(s.agency != req.principal.agency for s in answers)
        return
    mine = [s for s in answers if s.agency == req.principal.agency and role in s.roles]
    if not mine:  # no grant of the agency names this role for the action
        assert expected["reason"] == "no_matching_grant", expected
        return
    (got,) = mine
    assert got.action == req.action
    if expected["reason"] == "outside_playback_window":
        assert got.shared and [got.mou, got.grant, got.clause] == [expected[k] for k in ("mou", "grant", "clause")]
    else:
        assert answer_of(got) == expected


def test_exterior_interior_restricted_and_unclassified_cameras_on_a_weekday_morning() -> None:
    point = pdp()
    at = MONDAY_MORNING
    ext = {s.action: s for s in share_camera(point, point.policy.cameras["hs-ext"], at)}
    assert list(ext) == ["live", "snapshot", "playback", "export"]
    assert ext["live"] == Sharing("pd", "live", True, "allowed", ("dispatcher", "officer"), "sd-pd", "G1", "4.1")
    assert ext["playback"].shared and ext["playback"].clause == "4.1"  # footage of just now: within max_age 7d
    assert ext["export"].reason == "no_matching_grant" and not ext["export"].shared
    interior = share_camera(point, point.policy.cameras["hs-int"], at, actions=["live"])
    assert interior == (Sharing("pd", "live", False, "no_emergency", ("dispatcher", "officer"), "sd-pd", "G2", "4.2"),)
    (restricted,) = share_camera(point, point.policy.cameras["hs-res"], at, actions=["live"])
    assert (restricted.shared, restricted.reason, restricted.grant) == (False, "never_shared_zone", None)
    for unclassified in ("hs-new", "hs-odd"):  # no zone; a zone the MOU does not name
        (s,) = share_camera(point, point.policy.cameras[unclassified], at, actions=["live"])
        assert (s.shared, s.reason) == (False, "unclassified_camera")


def test_an_emergency_opens_interior_cameras_it_covers_under_its_clause() -> None:
    point = pdp()
    em = emergency("E7", buildings=frozenset({"main"}))
    (inside,) = share_camera(point, point.policy.cameras["hs-int"], MONDAY_MORNING, (em,), actions=["live"])
    assert (inside.shared, inside.grant, inside.clause, inside.emergency) == (True, "G2", "4.2", "E7")
    (gym,) = share_camera(point, point.policy.cameras["hs-gym"], MONDAY_MORNING, (em,), actions=["live"])
    assert (gym.shared, gym.reason) == (False, "no_emergency")  # another building: not covered
    (pre,) = share_camera(point, point.policy.cameras["hs-int"], MONDAY_MORNING, (em,), actions=["playback"])
    assert pre.shared and pre.emergency == "E7"
    after = MONDAY_MORNING.replace(hour=14, minute=1)  # expired at 14:00
    (gone,) = share_camera(point, point.policy.cameras["hs-int"], after, (em,), actions=["live"])
    assert (gone.shared, gone.reason) == (False, "no_emergency")


def test_outside_the_schedule_and_outside_the_mou_period() -> None:
    point = pdp()
    evening = MONDAY_MORNING + timedelta(hours=9)  # 18:05 in New York: after G1's 07:00-16:00
    (s,) = share_camera(point, point.policy.cameras["hs-ext"], evening, actions=["live"])
    assert (s.shared, s.reason, s.clause) == (False, "outside_schedule", "4.1")
    later = MONDAY_MORNING.replace(year=2027, month=9)
    (s,) = share_camera(point, point.policy.cameras["hs-ext"], later, actions=["live"])
    assert (s.shared, s.reason) == (False, "mou_not_in_effect")


def test_roles_with_different_answers_are_listed_apart() -> None:
    doc = mou()
    doc["grants"][1]["roles"] = ["dispatcher"]  # interior: dispatchers only, in an emergency
    doc["grants"].append({"id": "G9", "clause": "9", "agency": "pd", "roles": ["officer"], "zones": ["interior"],
                          "actions": ["live"], "when": "always"})  # fmt: skip
    point = pdp(doc)
    answers = share_camera(point, point.policy.cameras["hs-int"], MONDAY_MORNING, actions=["live"])
    assert {(s.roles, s.shared, s.reason, s.grant) for s in answers} == {
        (("officer",), True, "allowed", "G9"),
        (("dispatcher",), False, "no_emergency", "G2"),
    }


def test_recipients_roles_asked_and_a_second_partner() -> None:
    fire = mou(mou="sd-fd", parties={"owner": "sd", "recipients": ["fd"]}, sites=["ms"], grants=[
        {"id": "F1", "clause": "2", "agency": "fd", "roles": ["chief"], "zones": ["interior"], "actions": ["snapshot"],
         "when": "always"}])  # fmt: skip
    fire.pop("emergency")
    point = pdp(MOU, fire)
    assert recipients(point.policy, "hs") == ("pd",) and recipients(point.policy, "ms") == ("fd", "pd")
    assert roles_asked(point.policy, "pd", "hs", "export") == ("dispatcher", "officer")  # none names export: all
    assert roles_asked(point.policy, "fd", "ms", "snapshot") == ("chief",)
    answers = share_camera(point, point.policy.cameras["ms-int"], MONDAY_MORNING, actions=["snapshot"])
    assert [(s.agency, s.shared, s.grant) for s in answers] == [("fd", True, "F1"), ("pd", False, None)]
    assert answers[1].reason == "no_matching_grant"  # G2 names no snapshot


def test_the_representative_principal_is_nobody() -> None:
    assert REPRESENTATIVE_SUB.startswith("camgate:")  # a sub no identity provider issues


def test_owner_roles_are_the_roles_the_owners_mous_name_for_it() -> None:
    doc = mou()
    doc["emergency"] = {"declare": [{"agency": "pd", "roles": ["dispatcher"]}, {"agency": "sd", "roles": ["principal"]}],
                        "end": [{"agency": "sd", "roles": ["superintendent"]}], "default_duration": "60m",
                        "max_duration": "4h"}  # fmt: skip
    mous = [Mou.model_validate(doc)]
    assert owner_roles(mous, "sd") == {"principal", "superintendent"}
    assert owner_roles(mous, "pd") == frozenset()  # a recipient, not the owner
    assert owner_roles([Mou.model_validate(MOU)], "sd") == frozenset()  # names only police roles
    assert INVENTORY["agencies"][0]["id"] == "sd"

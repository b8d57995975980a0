"""Impact of an MOU change (issue 14, item 3): equal to the decision point asked camera by camera, in words."""

from __future__ import annotations

from datetime import UTC, datetime

from broker.admin.mous.impact import compute_impact, emergency_lead, instant_in
from broker.admin.mous.redline import redline
from tests.admin.mous.demo_change import (
    AT,
    MODEL_TEXT,
    V3,
    brute_force,
    changed_text,
    demo_inventory,
    parse,
)

EXTERIOR = ["east-ext-01", "nchs-ext-01", "nchs-ext-02", "saxe-ext-01", "saxe-ext-02", "south-ext-01", "west-ext-01"]
INTERIOR = ["east-int-01", "nchs-gym-01", "nchs-int-01", "nchs-int-02", "saxe-int-01", "saxe-int-02"]
POLICE = "New Canaan Police Department"


def test_the_impact_of_the_demo_change_equals_every_decision_asked_one_by_one() -> None:
    inv = demo_inventory()
    old, new = parse(V3, inv), parse(changed_text(), inv)
    found = compute_impact(inv, old, new, MODEL_TEXT, AT)
    got = {(a, r, m): {"gained": o.gained, "lost": o.lost, "reasons": o.reasons} for a, r, m, o in found.rows}
    expected = brute_force(inv, old, new)
    assert got == expected
    assert set(expected) == {
        ("ncpd", role, mode) for role in ("officer", "dispatcher", "supervisor") for mode in ("always", "emergency")
    }
    assert expected[("ncpd", "dispatcher", "always")]["gained"] == {"export": EXTERIOR}
    assert expected[("ncpd", "officer", "emergency")]["lost"] == {a: INTERIOR for a in ("live", "playback", "snapshot")}
    assert set(found.cameras) == set(EXTERIOR + INTERIOR)


def test_the_impact_in_words() -> None:
    inv = demo_inventory()
    report = redline(inv, parse(V3, inv), parse(changed_text(), inv), MODEL_TEXT, AT)
    assert report["summary"] == [
        f"{POLICE} dispatchers: +7 exterior cameras (export); \u22127 exterior cameras (snapshot): no grant covers them now",
        f"{POLICE} dispatchers: \u22126 interior cameras in emergencies (live, snapshot, playback): zone interior now "
        "never shared",
        f"{POLICE} officers: \u22127 exterior cameras (snapshot): no grant covers them now",
        f"{POLICE} officers: \u22126 interior cameras in emergencies (live, snapshot, playback): zone interior now "
        "never shared",
        f"{POLICE} supervisors: \u22127 exterior cameras (snapshot): no grant covers them now",
        f"{POLICE} supervisors: +7 exterior cameras in emergencies (export); \u22126 interior cameras in emergencies "
        "(live, snapshot, playback, export): zone interior now never shared",
    ]
    row = report["impact"][-1]
    assert (row["agency"], row["agency_name"], row["role"], row["mode"]) == ("ncpd", POLICE, "supervisor", "emergency")
    assert row["reasons"] == dict.fromkeys(INTERIOR, "never_shared_zone")
    assert report["cameras"]["nchs-gym-01"] == {
        "name": "Gym lobby",
        "site": "ncps-nchs",
        "site_name": "New Canaan High School",
        "building": "gym",
        "zone": "interior",
    }


def test_a_never_zone_of_another_mou_covering_the_site_still_denies() -> None:
    inv = demo_inventory()
    old = parse(V3, inv)
    # A second MOU for the same sites that never shares exterior cameras: nothing on exterior can be gained.
    other = parse(
        V3.replace("mou: ncps-ncpd-video", "mou: ncps-ncpd-other")
        .replace("exterior: {}", "exterior: {never: true}")
        .replace("    zones: [exterior]\n", "    zones: [interior]\n"),
        inv,
    )
    new = parse(changed_text(), inv)
    found = compute_impact(inv, old, new, MODEL_TEXT, AT, [other])
    got = {(a, r, m): {"gained": o.gained, "lost": o.lost, "reasons": o.reasons} for a, r, m, o in found.rows}
    assert got == brute_force(inv, old, new, context=[other])
    assert all("export" not in o.gained for *_, o in found.rows)


def test_no_change_no_impact() -> None:
    inv = demo_inventory()
    v3 = parse(V3, inv)
    assert compute_impact(inv, v3, v3, MODEL_TEXT, AT).rows == []


def test_a_version_not_yet_in_effect_is_asked_at_the_same_local_hour_in_its_first_week() -> None:
    inv = demo_inventory()
    later = parse(V3.replace("effective: 2026-07-01", "effective: 2026-10-01"), inv)
    at = instant_in(later, AT)  # Monday 14 September 09:00 EDT -> Monday 5 October 09:00 EDT
    assert at == datetime(2026, 10, 5, 13, 0, tzinfo=UTC)
    expired = parse(V3.replace("expires: 2027-06-30", "expires: 2026-08-01"), inv)
    assert instant_in(expired, AT) == datetime(2026, 7, 27, 13, 0, tzinfo=UTC)
    assert instant_in(parse(V3, inv), AT) == AT


def test_the_emergency_is_declared_before_every_grants_from() -> None:
    inv = demo_inventory()
    later_footage = parse(V3.replace("playback: {from: -30s}", "playback: {from: 5m}"), inv)
    assert emergency_lead(parse(V3, inv), later_footage).total_seconds() == 6 * 60
    found = compute_impact(inv, parse(V3, inv), later_footage, MODEL_TEXT, AT)
    assert found.rows == []  # footage from 5 minutes after the declaration: still reachable in an emergency


def test_camera_classes_change_nothing_but_the_time() -> None:
    inv = demo_inventory()
    old, new = parse(V3, inv), parse(changed_text(), inv)
    grouped = compute_impact(inv, old, new, MODEL_TEXT, AT)
    one_by_one = compute_impact(inv, old, new, MODEL_TEXT, AT, grouped=False)
    assert grouped == one_by_one

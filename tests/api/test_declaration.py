"""POST /api/v1/emergencies refused: who may declare, and every rule a declaration must meet (422 naming the field)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.api.support import START, THREAT, Api, assert_422, stored_emergencies

NCPS = "ncps-ncpd-video"


def test_declaring_is_forbidden_to_those_not_named(api: Api, subtests: pytest.Subtests) -> None:
    # An ncpd officer (role not named), the parking bureau and the fire department (agencies not named under
    # this MOU), a school auditor (ncps is named, but for principal / superintendent only).
    for who in ("officer", "parking", "fire", "auditor"):
        with subtests.test(who=who):
            r = api.declare(as_=who)
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden"
            assert r.json()["reason"] == "not_authorized_to_declare"
    assert stored_emergencies(api) == 0
    assert api.audit(kind="emergency.declare") == []


def test_an_unknown_mou_is_answered_as_one_the_caller_may_not_declare_under(api: Api) -> None:
    # Issue 13 item 12: 422 "unknown MOU" against 403 for an existing MOU told a stranger which ids exist.
    # Unknown ids, MOUs the caller's agency is no party to, and MOUs whose emergency.declare names not their role.
    asked = [(who, "nope-mou") for who in ("parking", "fire", "officer", "dispatcher", "principal")] + [
        ("parking", "ncps-ncpd-video"),
        ("fire", "ncps-ncpd-video"),
        ("fire", "ncpb-ncpd-video"),
        ("officer", "ncps-ncpd-video"),
        ("officer", "ncpb-ncpd-video"),
        ("principal", "ncpb-ncpd-video"),
    ]
    answers = {(who, mou): api.declare(as_=who, mou=mou) for who, mou in asked}
    refused = {key: (r.status_code, r.content, r.headers["content-type"]) for key, r in answers.items()}
    expected = (403, refused["fire", "nope-mou"][1], "application/json")
    assert {k: v for k, v in refused.items() if v != expected} == {}
    assert json.loads(expected[1]) == {
        "error": "forbidden",
        "message": "your role may not declare under this MOU",
        "field": "mou",
        "reason": "not_authorized_to_declare",
    }
    assert stored_emergencies(api) == 0


SHORT_THREATS = {
    "gun": "at least 5 words",
    "man with a gun": "at least 5 words",
    "a b c d e f": "20 characters",  # six words, eleven characters
    "   ": "requires a threat",
    "": "requires a threat",
}


def test_a_threat_of_a_few_words_is_refused(api: Api, subtests: pytest.Subtests) -> None:
    for threat, message in SHORT_THREATS.items():
        with subtests.test(threat=threat):
            assert_422(api.declare(threat=threat), "threat", message)
    assert stored_emergencies(api) == 0


def test_a_missing_threat_is_refused_when_the_mou_requires_one(api: Api) -> None:
    r = api.post("/api/v1/emergencies", as_="dispatcher", json={"mou": NCPS, "site": "ncps-saxe"})
    assert_422(r, "threat", "requires a threat")


def test_a_missing_incident_is_refused_when_the_mou_requires_one(api: Api) -> None:
    assert_422(api.declare(mou="ncpb-ncpd-video", site="ncpb-lots"), "incident")
    assert api.declare(mou="ncpb-ncpd-video", site="ncpb-lots", incident="CAD-1").status_code == 201


INVALID: list[tuple[dict[str, Any], str, str | None]] = [  # (body changes, field, part of the message)
    ({"duration_minutes": 241}, "duration_minutes", "max_duration of 240 minutes"),
    (
        {"mou": "ncpb-ncpd-video", "site": "ncpb-lots", "incident": "x", "duration_minutes": 121},
        "duration_minutes",
        None,
    ),
    ({"duration_minutes": 0}, "duration_minutes", None),
    ({"duration_minutes": -5}, "duration_minutes", None),
    ({"duration_minutes": 10 * 24 * 60}, "duration_minutes", None),
    ({"duration_minutes": 1.5}, "duration_minutes", None),
    ({"duration_minutes": "60"}, "duration_minutes", None),
    ({"site": "no-such-site"}, "site", None),
    ({"site": "ncpb-lots"}, "site", "not covered"),
    ({"buildings": ["main", "annex"]}, "buildings.1", "unknown building"),
    ({"zones": ["kitchen"]}, "zones.0", "not a zone"),
    ({"zones": ["interior", "restricted"]}, "zones.1", "never shared"),
    ({"center": {"lat": 41.1, "lon": -73.4}}, "radius_m", "go together"),
    ({"radius_m": 50}, "radius_m", "go together"),
    ({"center": {"lat": 91, "lon": -73.4}, "radius_m": 10}, "center.lat", None),
    ({"center": {"lat": 41.1, "lon": -181}, "radius_m": 10}, "center.lon", None),
    ({"center": {"lat": 41.1}, "radius_m": 10}, "center.lon", None),
    ({"center": {"lat": 41.1, "lon": 1, "alt": 3}, "radius_m": 10}, "center.alt", None),
    ({"center": {"lat": 41.1, "lon": -73.4}, "radius_m": 0}, "radius_m", None),
    ({"center": {"lat": True, "lon": -73.4}, "radius_m": 10}, "center.lat", None),  # no coordinate (was 1.0)
    ({"center": {"lat": 41.1, "lon": "-73.4"}, "radius_m": 10}, "center.lon", None),
    ({"center": {"lat": 41.1, "lon": -73.4}, "radius_m": True}, "radius_m", None),
    ({"center": {"lat": 41.1, "lon": -73.4}, "radius_m": 60_000}, "radius_m", "limit"),
    ({"expires_at": "2030-01-01T00:00:00Z"}, "expires_at", "Extra inputs"),
    ({"declared_by": "someone-else"}, "declared_by", "Extra inputs"),
    ({"mou": ""}, "mou", None),
    ({"site": None}, "site", None),
    ({"buildings": "main"}, "buildings", None),
    ({"threat": "x " * 2001}, "threat", None),
]


def test_invalid_declarations_are_422_naming_the_field(api: Api, subtests: pytest.Subtests) -> None:
    for body, field, message in INVALID:
        with subtests.test(body=body):
            payload = {"mou": NCPS, "site": "ncps-saxe", "threat": THREAT} | body
            assert_422(api.post("/api/v1/emergencies", as_="dispatcher", json=payload), field, message)
    assert stored_emergencies(api) == 0
    assert api.audit(kind="emergency.declare") == []


def test_declaring_outside_the_mou_effective_period_is_refused(api: Api) -> None:
    api.travel(START - timedelta(days=120))
    assert_422(api.declare(), "mou", "not in effect")

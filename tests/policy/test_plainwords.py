"""MOUs in plain words (``broker/policy/plainwords.py``): every sentence from the document's own fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from broker.cli.decide import load_pdp
from broker.documents.mou import Mou
from broker.policy.plainwords import (
    Names,
    actions_text,
    days_text,
    describe_mou,
    duration,
    grant_text,
    join,
    plural,
    status_at,
)
from broker.timeutil import parse_instant
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS
from tests.policy.builders import MOU, mou

NAMES = Names(
    {
        "ncpd": "New Canaan Police Department",
        "ncps": "New Canaan Public Schools",
        "ncpb": "New Canaan Parking Bureau",
        "pd": "Police",
        "sd": "School District",
    },
    {"ncps-saxe": "Saxe Middle School", "ncps-east": "East School", "hs": "High School", "ms": "Middle School"},
)


POLICY = load_pdp(str(EXAMPLE_INVENTORY), [str(EXAMPLE_MOUS)]).policy  # the contract's examples


def example(mou_id: str) -> Mou:
    return POLICY.mous[mou_id].doc


def test_the_school_mou_in_plain_words() -> None:
    words = describe_mou(example("ncps-ncpd-video"), NAMES)
    g1, g2, g3 = (g.text for g in words.grants)
    assert g1 == (
        "New Canaan Police Department officers, dispatchers and supervisors may watch live video, take snapshots "
        "and play back recorded footage of exterior cameras at every New Canaan Public Schools site, at any time; "
        "recorded footage up to 7 days old (clause 4.1)."
    )
    assert g2 == (
        "New Canaan Police Department officers, dispatchers and supervisors may watch live video, take snapshots "
        "and play back recorded footage of interior cameras at every New Canaan Public Schools site, only during a "
        "declared emergency, for up to 4 h; pre-event footage from 30 s before the declaration (clause 4.2)."
    )
    assert g3.startswith("New Canaan Police Department supervisors may export recorded footage of interior cameras")
    assert [(g.id, g.clause) for g in words.grants] == [("G1", "4.1"), ("G2", "4.2"), ("G3", "4.3")]
    assert words.period == "In force from 1 July 2026 through 30 June 2027 (America/New_York)."
    assert words.never == "Never shared, by any grant or in any emergency: restricted cameras."
    assert words.records is not None and "interior cameras is a FERPA education record (34 CFR 99.3)" in words.records
    assert words.emergency == (
        "Emergencies are declared by New Canaan Police Department dispatchers and supervisors and New Canaan "
        "Public Schools principals and superintendents; ended by the declarer, New Canaan Police Department "
        "supervisors and New Canaan Public Schools superintendents; last 1 h unless set otherwise, at most 4 h "
        "with extensions; a declaration must state the threat."
    )


def test_the_parking_mou_a_schedule_and_named_sites() -> None:
    words = describe_mou(example("ncpb-ncpd-video"), NAMES)
    p1, p2, p3 = (g.text for g in words.grants)
    assert p1.endswith(
        "of lot cameras at ncpb-lots, on Monday to Saturday from 08:00 to 18:00, America/New_York time (clause 2)."
    )
    assert "supervisors may play back and export recorded footage of body worn cameras" in p2
    assert p2.endswith("at any time; recorded footage up to 30 days old (clause 3).")
    assert "of body worn and lot cameras" in p3 and ", for up to 2 h;" in p3
    assert words.period == "In force from 1 January 2026, with no end date (America/New_York)."
    assert words.never is None and words.records is None
    assert words.emergency is not None and "must state the threat and incident" in words.emergency


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"playback": None}, "recorded footage from the declaration on (clause 4.2)."),
        ({"playback": {"from": "5m"}}, "recorded footage from 5 min after the declaration (clause 4.2)."),
        ({"actions": ["live"]}, "only during a declared emergency, for up to 4 h (clause 4.2)."),
        (
            {"schedule": {"days": ["mon", "wed", "fri"], "hours": "07:00-16:00"}},
            "only during a declared emergency, for up to 4 h, on Monday, Wednesday and Friday from 07:00 to 16:00, "
            "America/New_York time; pre-event",
        ),
    ],
)
def test_each_field_of_a_grant_changes_its_sentence(changes: dict[str, Any], expected: str) -> None:
    doc = mou(sites=["hs", "ms"])
    doc["grants"][1].update(changes)
    m = Mou.model_validate(doc)
    text = grant_text(m, m.grants[1], NAMES)
    assert text.startswith("Police officers and dispatchers may ")
    assert " cameras at High School and Middle School, " in text
    assert expected in text


def test_an_always_grant_without_max_age_and_the_helpers() -> None:
    doc = mou()
    doc["grants"][0].pop("playback")
    doc["grants"][0].pop("schedule")
    m = Mou.model_validate(doc)
    assert grant_text(m, m.grants[0], NAMES).endswith(
        "at every School District site, at any time; recorded footage of any age (clause 4.1)."
    )
    assert [join([]), join(["a"]), join(["a", "b"]), join(["a", "b", "c"])] == ["", "a", "a and b", "a, b and c"]
    assert [plural(r) for r in ("officer", "secretary", "boss", "it_admin", "day")] == [
        "officers",
        "secretaries",
        "bosses",
        "it admins",
        "days",
    ]
    assert [duration(timedelta(seconds=s)) for s in (30, 90, 5400, 3600, 86400, 604800, -30)] == [
        "30 s",
        "90 s",
        "90 min",
        "1 h",
        "1 day",
        "7 days",
        "30 s",
    ]
    assert days_text(["sun", "mon", "tue", "wed", "thu", "fri", "sat"]) == "every day"
    assert days_text(["tue", "mon", "wed"]) == "Monday to Wednesday"
    assert days_text(["sat", "sun"]) == "Saturday and Sunday"
    assert actions_text(["export", "live"]) == "watch live video and export recorded footage"


def test_status_in_force_not_yet_expired() -> None:
    cm = POLICY.mous["ncps-ncpd-video"]
    # effective 2026-07-01 00:00 and expires 2027-06-30 23:59:59, New York time (UTC-4 in summer)
    assert status_at(cm, parse_instant("2026-07-01T03:59:59Z")) == "not_yet"
    assert status_at(cm, parse_instant("2026-07-01T04:00:00Z")) == "in_force"
    assert status_at(cm, parse_instant("2027-07-01T03:59:59Z")) == "in_force"
    assert status_at(cm, parse_instant("2027-07-01T04:00:00Z")) == "expired"
    assert MOU["mou"] == "sd-pd"

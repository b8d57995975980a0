"""A flood of declarations must not hide a real emergency (issue 13 item 1): every active emergency reaches every
decision, declarations are rate-limited per principal and per trigger device (429, Retry-After, counted on the
audit chain), a repeated press of a device whose emergency is active declares nothing, and a threat of filler is
refused with the rule.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from broker.store.emergencies import EmergencyRecord, EmergencyRepository, _to_row
from broker.store.tables import emergencies
from tests.api.support import Api, assert_422, live_decision, stored_emergencies
from tests.api.test_triggers import BESIDE_LOT, declared, panic, post

FLOOD = 5000


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def bulk_declare(api: Api, count: int, site: str) -> None:
    """``count`` active emergencies at ``site``, each newer than any declared before, in one transaction (as many
    replicas' declarations would stand in the table; the HTTP route would take minutes)."""
    now = api.clock.now()
    rows = [
        _to_row(
            EmergencyRecord(
                id=f"em-flood-{i:05d}",
                mou="ncps-ncpd-video",
                site=site,
                buildings=(),
                zones=(),
                center_lat=None,
                center_lon=None,
                radius_m=None,
                threat="flood",
                incident=None,
                declared_at=now + timedelta(microseconds=i + 1),
                expires_at=now + timedelta(hours=1),
                ended_at=None,
                declared_by_sub=f"flood-{i}",
                declared_by_agency="ncpd",
                ended_by_sub=None,
                ended_by_agency=None,
            )
        )
        for i in range(count)
    ]
    with api.services.store.begin_write() as conn:
        conn.execute(emergencies.insert(), rows)
        EmergencyRepository._bump(conn)  # as every insert does: other replicas see the set changed


def test_every_active_emergency_reaches_the_decision_whatever_their_number(api: Api) -> None:
    em = api.declared()
    assert live_decision(api, "saxe-int-01")["emergency"] == em["id"]
    api.clock.advance(1)
    bulk_declare(api, FLOOD, "ncps-nchs")  # newer than Saxe's: a newest-first list of 500 no longer holds it
    api.clock.advance(api.services.settings.emergencies.refresh_seconds)
    started = time.perf_counter()
    api.services.emergencies.refresh()
    elapsed = time.perf_counter() - started
    assert live_decision(api, "saxe-int-01")["emergency"] == em["id"]
    assert len(api.services.emergencies.views_for("ncps-nchs")) == FLOOD
    assert elapsed < 10, elapsed  # one read of 5,000 rows (about 0.1 s on SQLite here)


def test_declarations_beyond_the_per_principal_limit_are_429_with_retry_after_and_counted(
    make_api: Callable[..., Any],
) -> None:
    limits = {"rate_limit": {"per_principal": 3, "window_seconds": 600}}
    with make_api(emergencies=limits) as api:
        for _ in range(3):
            assert api.declare().status_code == 201
        api.clock.advance(100)
        refused = [api.declare() for _ in range(20)]
        assert {r.status_code for r in refused} == {429}
        assert refused[0].headers["Retry-After"] == "500"  # when the first of the three leaves the window
        assert refused[0].json()["error"] == "rate_limited" and "per_principal" in refused[0].json()["message"]
        assert api.declare(as_="dispatcher2").status_code == 201  # another person is not held back
        assert stored_emergencies(api) == 4
        api.clock.advance(60)
        api.services.tick()  # the minute is over: its refusals are written, counted
        records = api.audit(kind="emergency.refused")
        assert {(r["reason"], r["principal_sub"]) for r in records} == {("rate_limited", "dispatch-3")}
        assert sum(r["details"]["count"] for r in records) == 20 and len(records) == 2  # not one record each
        api.clock.advance(440)  # the first declaration leaves the window
        assert api.declare().status_code == 201


def test_a_repeated_press_while_its_emergency_is_active_declares_nothing(api: Api) -> None:
    em = declared(panic(api))
    for i in range(30):  # distinct deliveries (new webhook-ids), as a stuck or hammered button sends them
        r = panic(api, msg_id=f"again_{i}")
        assert r.status_code == 200 and r.json()["outcome"] == "already_active", r.text
        assert r.json()["emergency"]["id"] == em["id"]
    assert stored_emergencies(api) == 1
    assert len(api.audit(kind="emergency.declare")) == 1


def test_a_device_declaring_past_its_limit_is_429_and_its_delivery_is_handled_anew_later(
    make_api: Callable[..., Any],
) -> None:
    limits = {"rate_limit": {"per_device": 2, "window_seconds": 600}}
    with make_api(emergencies=limits) as api:
        for i in range(2):  # pressed, cleared, pressed again ...
            declared(panic(api, msg_id=f"press_{i}"))
            clear = post(api, "ncps", "panic.cleared", {"device": "saxe-office-1"}, msg_id=f"clear_{i}")
            assert clear.json()["outcome"] == "ended", clear.text
            api.clock.advance(10)
        r = panic(api, msg_id="press_2")
        assert r.status_code == 429 and r.headers["Retry-After"] == "580", r.text
        assert "per_device" in r.json()["message"]
        other = post(api, "ncpb", "officer.alert", {"device": "pb-radio-01", "location": BESIDE_LOT}, msg_id="o1")
        assert declared(other)["site"] == "ncpb-lots"  # another device is not held back
        api.clock.advance(60)
        api.services.tick()
        (rec,) = api.audit(kind="trigger.refused")
        assert (rec["reason"], rec["principal_sub"]) == ("rate_limited", "trigger:ncps")
        api.clock.advance(520)
        assert declared(panic(api, msg_id="press_2"))  # the same delivery again: not stuck on its 429


@pytest.mark.parametrize(
    "threat",
    [
        "aaaa bbbb cccc dddd",
        "aaaa bbbb cccc dddd eeee ffff gggg hhhh",
        "the and of in the and of in the and",  # small words only
        "qwerty uiop asdf ghjkl zxcvb armed intruder",  # mostly filler
    ],
)
def test_a_threat_of_filler_is_refused_with_the_rule(api: Api, threat: str) -> None:
    r = api.declare(threat=threat)
    if "beyond small ones" not in r.text:  # four words are also too few words: that rule speaks first
        assert_422(r, "threat", "at least 5 words")
        r = api.declare(threat=f"{threat} {threat}")
    assert_422(r, "threat", "in words (34 CFR 99.36(c))")
    assert "different English words beyond small ones" in r.json()["message"]
    assert stored_emergencies(api) == 0


@pytest.mark.parametrize(
    "threat",
    [
        "Caller reports an armed intruder in the front office.",
        "Panic button pressed at the main entrance desk.",
        "Driver threatening the parking officer with a tire iron",
        "Student collapsed, not breathing, in the gym at Saxe; nurse called 911",
        "Shots fired in the parking lot behind the NCHS gym, CAD 26-01433",
        "Kid w knife rm 12 bldg B",  # dispatch shorthand, typed in a hurry
        "Susp veh at main entrance, poss wpn, 2 ofcs enrt",
    ],
)
def test_a_threat_in_words_is_accepted(api: Api, threat: str) -> None:
    assert api.declare(threat=threat).status_code == 201

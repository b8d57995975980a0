"""Declaration rules against the MOU, without HTTP (broker/admin/declaration.py)."""

from datetime import timedelta

import pytest

from broker.admin.declaration import Declaration, check_declaration, may_declare, may_end
from broker.documents import load_inventory, load_mous
from broker.errors import InvalidRequest, PermissionDenied
from broker.policy import Principal
from broker.settings import EmergencySettings
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

INV = load_inventory(EXAMPLE_INVENTORY)
MOUS = {m.mou: m for m in load_mous([EXAMPLE_MOUS], INV)}
SCHOOLS = MOUS["ncps-ncpd-video"]
DISPATCH = Principal.of("lee", "ncpd", ["dispatcher"])
THREAT = "Caller reports an armed intruder in the front office."


def check(body: dict, principal: Principal = DISPATCH, mou=SCHOOLS) -> timedelta:
    decl = Declaration.model_validate({"mou": mou.mou, "site": "ncps-saxe", "threat": THREAT} | body)
    sites = [s.id for s in INV.sites if s.owner == mou.parties.owner]
    return check_declaration(decl, mou, principal, sites=sites, buildings=frozenset({"main"}), cfg=EmergencySettings())


def test_who_may_declare_and_end():
    assert may_declare(SCHOOLS, DISPATCH)
    assert may_declare(SCHOOLS, Principal.of("p", "ncps", ["principal"]))
    assert not may_declare(SCHOOLS, Principal.of("k", "ncpd", ["officer"]))
    assert not may_declare(SCHOOLS, Principal.of("x", "ncpb", ["dispatcher"]))
    assert may_end(SCHOOLS, DISPATCH, ("lee", "ncpd"))  # the declarer always may
    assert not may_end(SCHOOLS, Principal.of("other", "ncpd", ["dispatcher"]), ("lee", "ncpd"))
    assert may_end(SCHOOLS, Principal.of("sgt", "ncpd", ["supervisor"]), ("lee", "ncpd"))  # named in emergency.end


def test_duration_defaults_and_cap():
    assert check({}) == timedelta(minutes=60)
    assert check({"duration_minutes": 240}) == timedelta(hours=4)
    with pytest.raises(InvalidRequest) as exc:
        check({"duration_minutes": 241})
    assert exc.value.field == "duration_minutes"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"threat": None}, "threat"),
        ({"threat": "gun"}, "threat"),
        ({"threat": "armed man at school"}, "threat"),  # four words: not an articulable threat
        ({"site": "ncpb-lots"}, "site"),
        ({"buildings": ["annex"]}, "buildings.0"),
        ({"zones": ["restricted"]}, "zones.0"),
        ({"zones": ["attic"]}, "zones.0"),
        ({"center": {"lat": 41.1, "lon": -73.4}, "radius_m": 60_000}, "radius_m"),
    ],
)
def test_refusals_name_the_field(body, field):
    with pytest.raises(InvalidRequest) as exc:
        check(body)
    assert exc.value.field == field and exc.value.status == 422


def test_a_principal_not_named_in_emergency_declare_is_forbidden_without_being_told_who_is():
    refusals = []
    for who in (Principal.of("k", "ncpd", ["officer"]), Principal.of("x", "ncpb", ["dispatcher"])):
        with pytest.raises(PermissionDenied) as exc:
            check({}, who)
        refusals.append(exc.value.to_dict())
    # Issue 13 item 11: the refusal named every agency and role that may declare; it says no more than "no" now.
    assert (
        refusals
        == [
            {
                "error": "forbidden",
                "message": "your role may not declare under this MOU",
                "field": "mou",
                "reason": "not_authorized_to_declare",
            }
        ]
        * 2
    )
    for word in ("dispatcher", "supervisor", "principal", "superintendent", "ncpd", "ncps", "allowed"):
        assert word not in refusals[0]["message"]


def test_incident_required_by_the_parking_mou():
    with pytest.raises(InvalidRequest) as exc:
        check({"site": "ncpb-lots"}, mou=MOUS["ncpb-ncpd-video"])
    assert exc.value.field == "incident"
    assert check({"site": "ncpb-lots", "incident": "NC-1"}, mou=MOUS["ncpb-ncpd-video"]) == timedelta(minutes=30)

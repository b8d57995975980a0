"""``GET /api/v1/mous/{mou}/diff`` over real HTTP (issue 14, item 3): the redline and impact of the demo MOU against a
changed copy, equal to decisions the test asks the decision point for itself, camera by camera."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.admin.mous.demo_change import V3, brute_force, changed_text, parse
from tests.api.mou_support import PARTIES, import_demo_mous
from tests.api.support import Api

URL = "/api/v1/mous/ncps-ncpd-video/diff"


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def mou_api(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with make_api(mous={"source": "store", "parties": PARTIES}) as api:
        import_demo_mous(api)
        r = api.post(
            "/api/v1/mous",
            as_="operator",
            content=changed_text().encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert r.status_code == 201, r.text
        yield api


def test_the_redline_of_the_demo_change_is_exactly_the_decisions(mou_api: Api) -> None:
    api = mou_api
    r = api.get(URL, as_="chief")
    assert r.status_code == 200, r.text
    body = r.json()
    sha3, sha4 = (hashlib.sha256(t.encode()).hexdigest() for t in (V3, changed_text()))
    assert body["mou"] == "ncps-ncpd-video"
    assert body["from"] == {"version": 3, "sha256": sha3, "state": "in_force"}
    assert body["to"] == {"version": 4, "sha256": sha4, "state": "draft"}
    assert [(c["area"], c["change"], c["path"]) for c in body["changes"]] == [
        ("title", "changed", "title"),
        ("dates", "changed", "expires"),
        ("zones", "changed", "zones.interior.never"),
        ("zones", "changed", "zones.interior.education_records"),
        ("grants", "changed", "grants.G1"),
        ("grants", "changed", "grants.G3"),
        ("grants", "added", "grants.G4"),
        ("grants", "removed", "grants.G2"),
        ("emergency", "changed", "emergency.max_duration"),
        ("emergency", "changed", "emergency.require"),
    ]
    assert body["changes"][8]["text"] == "An emergency now lasts at most 2 h with extensions (was 4 h)."
    catalog = api.services.catalog
    inv = catalog.inventory
    # Independently: the decision point asked about every camera of the inventory, every action and role, with
    # the other MOU in force (the parking bureau's) compiled alongside.
    expected = brute_force(
        inv, parse(V3, inv), parse(changed_text(), inv), api.clock.now(), list(catalog.mous.values())
    )
    got = {
        (i["agency"], i["role"], i["mode"]): {k: i[k] for k in ("gained", "lost", "reasons")} for i in body["impact"]
    }
    assert got == expected
    assert body["summary"] == [i["text"] for i in body["impact"]]
    assert body["summary"][1] == (
        "New Canaan Police Department dispatchers: \u22124 interior cameras in emergencies (live, snapshot, playback): "
        "zone interior now never shared"
    )
    named = {c for i in body["impact"] for part in ("gained", "lost") for ids in i[part].values() for c in ids}
    assert set(body["cameras"]) == named
    assert body["cameras"]["saxe-gym-01"] == {
        "name": "Gym lobby",
        "site": "ncps-saxe",
        "site_name": "Saxe Middle School",
        "building": "gym",
        "zone": "interior",
    }


def test_versions_can_be_named_either_way(mou_api: Api) -> None:
    api = mou_api
    back = api.get(URL, as_="operator", params={"from": 4, "to": 3}).json()
    assert (back["from"]["version"], back["to"]["version"]) == (4, 3)
    forward = api.get(URL, as_="operator").json()
    flipped = {(i["role"], i["mode"]): (i["gained"], i["lost"]) for i in forward["impact"]}
    assert {(i["role"], i["mode"]): (i["lost"], i["gained"]) for i in back["impact"]} == flipped
    same = api.get(URL, as_="auditor", params={"from": 3, "to": 3}).json()
    assert same["changes"] == [] and same["impact"] == [] and same["summary"] == []


def test_bad_input(mou_api: Api) -> None:
    api = mou_api
    r: Any = api.get(URL, as_="officer", params={"to": 9})
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (404, "unknown_mou", "to")
    r = api.get(URL, as_="officer", params={"from": 2})
    assert (r.status_code, r.json()["field"]) == (404, "from")
    assert api.get(URL, as_="officer", params={"from": "three"}).status_code == 422
    assert api.get(URL, as_="officer", params={"to": 0}).status_code == 422
    assert api.get("/api/v1/mous/no-such-mou/diff", as_="officer").json()["error"] == "unknown_mou"
    r = api.get(URL, as_="parking")
    assert (r.status_code, r.json()["reason"]) == (403, "not_a_party")
    assert api.get(URL, as_=None).status_code == 401

"""``GET /api/v1/systems`` per agency (issue 13 item 13): an agency's operators see its own systems whole, and a
system of another agency only as far as it serves their cameras (no gateway, problems, errors or others' counts).
Every agency's operators saw every system before, another agency's gateway state and camera refs included."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.support import MOUS, Api
from tests.paths import MODEL

OPERATORS = {"ncps": ("it-s", "ncps", ["operator"]), "ncpb": ("it-b", "ncpb", ["operator"])}
# A parking camera served by the schools' VMS: ncps-vms serves an ncpb camera (the inventory allows it).
GUEST = (
    "  - {id: lots-ext-09, name: Lot seen from the school, site: ncpb-lots, zone: lot, system: ncps-vms, ref: cam1}\n"
)


def systems(api: Api, who: str) -> dict[str, dict[str, Any]]:
    token = api.mint(*OPERATORS[who])
    r = api.get("/api/v1/systems", as_=None, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()["systems"]}


def test_operators_see_their_agencys_systems_and_only_their_cameras_on_others(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]], tmp_path: Path
) -> None:
    path = tmp_path / "guest-inventory.yaml"  # the tests' inventory (written by make_api) and the guest camera
    path.write_text((tmp_path / "inventory.yaml").read_text(encoding="utf-8") + GUEST, encoding="utf-8")
    with make_api(policy={"inventory": path, "mous": [MOUS], "model": MODEL}) as api:
        assert api.live("lots-ext-09").status_code in (200, 403)  # a decision on it (a viewer, if allowed)
        schools, parking = systems(api, "ncps"), systems(api, "ncpb")

    assert sorted(schools) == ["ncps-dead", "ncps-slow", "ncps-vms"]  # not the parking bureau's ncpb-cams
    assert schools["ncps-vms"]["cameras"]["inventory"] == 11  # its own system: every camera on it, the guest too

    assert sorted(parking) == ["ncpb-cams", "ncps-vms"]
    assert parking["ncpb-cams"]["owner"] == "ncpb" and parking["ncpb-cams"]["cameras"]["inventory"] == 2
    guest = parking["ncps-vms"]
    assert guest["owner"] == "ncps" and guest["cameras"] == {
        "inventory": 1,
        "unclassified": 0,
        "missing": 0,
        "discovered": None,
    }
    assert (guest["gateway"], guest["problems"], guest["last_error"]) == (None, None, None)


def unclassified(api: Api, who: str, query: str = "") -> dict[str, Any]:
    token = api.mint(*OPERATORS[who])
    r = api.get(f"/api/v1/inventory/unclassified{query}", as_=None, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_operators_see_only_their_agencys_cameras_to_classify_and_warnings(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]], tmp_path: Path
) -> None:
    """The same rule for School IT's to-do list: the parking bureau's operators saw the schools' unclassified
    cameras (name, building, system, ref) and the school MOU's and cameras' document warnings."""
    path = tmp_path / "typo-inventory.yaml"  # the tests' inventory with a zone typo on a school camera
    text = (tmp_path / "inventory.yaml").read_text(encoding="utf-8")
    typo = text.replace(
        "site: ncps-saxe, building: main, zone: interior, location: {lat: 41.14860",
        "site: ncps-saxe, building: main, zone: intrior, location: {lat: 41.14860",
    )
    assert typo != text
    path.write_text(typo, encoding="utf-8")
    with make_api(policy={"inventory": path, "mous": [MOUS], "model": MODEL}) as api:
        schools, parking = unclassified(api, "ncps"), unclassified(api, "ncpb")
        by_site = unclassified(api, "ncpb", "?site=ncps-saxe")

    assert {c["id"] for c in schools["cameras"]} >= {"saxe-new-01", "saxe-int-02"}
    assert [(w["code"], w["subject"]) for w in schools["warnings"]] == [("unknown_zone", "saxe-int-02")]
    assert (parking["cameras"], parking["total"], parking["warnings"]) == ([], 0, [])
    assert (by_site["cameras"], by_site["warnings"]) == ([], [])

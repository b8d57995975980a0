"""Classifying a camera, the pure part: what an agency may give a camera, and the inventory text edited in place."""

from __future__ import annotations

import pytest
import yaml

from broker.errors import InvalidRequest
from broker.inventory.catalog import Catalog
from broker.inventory.classification import Classification, check, classified_text, overlaid_text, owns
from broker.inventory.yamledit import EditError
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS, MODEL

CATALOG = Catalog.load(EXAMPLE_INVENTORY, [EXAMPLE_MOUS], MODEL)
TEXT = """\
# kept by hand
cameras:
  # found by sync
  - {id: a, name: A, site: s1, building: main, system: v, ref: a}  # trailing
  - id: b
    name: B
    site: s1
    location:
      lat: 1.0
      lon: 2.0
    building: gym
  - id: c
    name: C
    site: s1
"""


def cameras(text: str) -> dict[str, dict[str, object]]:
    return {c["id"]: c for c in yaml.safe_load(text)["cameras"]}


def test_the_site_building_and_zone_must_be_the_agencys_and_defined() -> None:
    check(CATALOG, "ncps", Classification("ncps-saxe", "main", "restricted"))  # a never zone is classified too
    with pytest.raises(InvalidRequest) as site:
        check(CATALOG, "ncps", Classification("ncpb-lots", None, "lot"))
    assert site.value.field == "site" and "ncps-saxe" in site.value.message
    with pytest.raises(InvalidRequest) as building:
        check(CATALOG, "ncps", Classification("ncps-nchs", "annex", "interior"))
    assert building.value.field == "building" and "gym, main" in building.value.message
    with pytest.raises(InvalidRequest) as zone:
        check(CATALOG, "ncps", Classification("ncps-saxe", None, "gym"))
    assert zone.value.field == "zone"
    assert zone.value.message == (
        "zone 'gym' is not defined by the MOUs covering site ncps-saxe; they define: exterior, interior, restricted"
    )


def test_an_agency_owns_cameras_at_its_sites_or_on_its_systems() -> None:
    cam = CATALOG.camera("saxe-new-01")
    assert cam is not None and owns(CATALOG, cam, "ncps") and not owns(CATALOG, cam, "ncpb")


def test_a_flow_camera_changes_on_its_own_line_only() -> None:
    edited = classified_text(TEXT, "a", Classification("s2", None, "interior", (41.1, -73.2)))
    assert edited == TEXT.replace(
        "{id: a, name: A, site: s1, building: main, system: v, ref: a}",
        "{id: a, name: A, site: s2, system: v, ref: a, zone: interior, location: {lat: 41.1, lon: -73.2}}",
    )


def test_block_cameras_nested_location_and_last_keys() -> None:
    edited = classified_text(TEXT, "b", Classification("s2", None, "x", (3.0, 4.0)))
    assert cameras(edited)["b"] == {
        "id": "b",
        "name": "B",
        "site": "s2",
        "zone": "x",
        "location": {"lat": 3.0, "lon": 4.0},
    }
    assert cameras(edited)["c"] == {"id": "c", "name": "C", "site": "s1"}  # the next camera is untouched
    assert edited.startswith("# kept by hand\ncameras:\n  # found by sync\n")
    edited = classified_text(TEXT, "c", Classification("s1", "main", "exterior"))
    assert edited == TEXT + "    building: main\n    zone: exterior\n"


def test_unchanged_is_the_same_text_and_an_unknown_camera_is_refused() -> None:
    same = Classification("s1", "main", None)
    assert classified_text(TEXT, "a", same) == TEXT
    with pytest.raises(EditError):
        classified_text(TEXT, "z", same)


def test_the_overlay_skips_cameras_the_file_no_longer_lists() -> None:
    overlay = {"z": Classification("s1", None, "x"), "a": Classification("s1", "main", "exterior")}
    edited = overlaid_text(TEXT, overlay)
    assert cameras(edited)["a"]["zone"] == "exterior" and "z" not in cameras(edited)
    assert overlaid_text(edited, overlay) == edited  # already so: left as written


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("camera", ["a", "b", "c"])
@pytest.mark.parametrize(
    "new",
    [
        Classification("s2", None, "x", (3.0, 4.0)),
        Classification("s1", "main", "exterior"),
        Classification("s1", "gym", None, (1.0, 2.0)),
    ],
)
def test_one_camera_composed_alone_reads_as_the_whole_document_edited(
    camera: str, new: Classification, crlf: bool
) -> None:
    text = TEXT.replace("\n", "\r\n") if crlf else TEXT
    assert classified_text(text, camera, new) == overlaid_text(text, {camera: new}, strict=True)


def test_a_camera_whose_id_is_not_its_first_key_is_edited_in_the_whole_document() -> None:
    text = "cameras:\n  - name: Late id\n    id: late\n    site: s1\nsites: []\n"
    assert classified_text(text, "late", Classification("s1", None, "x")) == (
        "cameras:\n  - name: Late id\n    id: late\n    site: s1\n    zone: x\nsites: []\n"
    )

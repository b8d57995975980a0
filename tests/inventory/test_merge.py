"""Inventory sync's merge (pure): inventory text + each system's listing + now -> new text, diff, summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.adapterapi import DiscoveredCamera as D
from broker.documents.common import IDENT_RE
from broker.documents.loader import parse_inventory
from broker.errors import DocumentError
from broker.inventory.merge import MergeError, clean_name, merge, new_id, slug
from tests.paths import REPO

NOW = datetime(2026, 9, 14, 13, 0, 5, 250_000, tzinfo=UTC)
STAMP = "2026-09-14T13:00:05Z"
LATER = datetime(2026, 9, 20, 8, 30, tzinfo=UTC)

BASE = """\
# Riverside district: maintained by school IT. Do not reorder.
agencies:
  - {id: rsd, name: Riverside Schools, kind: school_district}
  - {id: rpd, name: Riverside Police, kind: police}

systems:
  - {id: rsd-nvr, owner: rsd, adapter: fake-nvr, base_url: "http://127.0.0.1:1/"}   # the high school's NVR
  - {id: rsd-cloud, owner: rsd, adapter: fake-nvr, base_url: "http://127.0.0.1:2/", sync_site: rsd-ms}
  - {id: rpd-cars, owner: rpd, adapter: fake-nvr, base_url: "http://127.0.0.1:3/"}

sites:
  - {id: rsd-hs, name: Riverside High, owner: rsd, timezone: America/Chicago}
  - {id: rsd-ms, name: Riverside Middle, owner: rsd, timezone: America/Chicago}
  - {id: rpd-hq, name: Police HQ, owner: rpd, timezone: America/Chicago}

cameras:
  # High school
  - {id: hs-front, name: Front door, site: rsd-hs, building: main, zone: exterior, system: rsd-nvr, ref: ch1}
  - {id: hs-gym, name: Gym, site: rsd-hs, building: gym, zone: interior, location: {lat: 41.0, lon: -93.0}, system: rsd-nvr, ref: ch2}  # gym lobby
  - {id: ms-bus, name: Bus loop, site: rsd-ms, zone: exterior, system: rsd-nvr, ref: ch9}
  - {id: hs-old, name: Old hallway, site: rsd-hs, zone: interior, system: rsd-nvr, ref: ch3, missing_since: "2026-09-01T00:00:00Z"}
  - {id: hs-manual, name: Hand-added, site: rsd-hs, zone: exterior}
# end of cameras
"""


def listing(*refs: str) -> list[D]:
    return [D(ref, f"Camera {ref}") for ref in refs]


def cams(text: str) -> dict[str, dict[str, object]]:
    return {c.id: c.model_dump(exclude_none=True) for c in parse_inventory(text, "t.yaml").cameras}


def test_nothing_listed_changes_nothing() -> None:
    result = merge(BASE, {}, NOW)
    assert result.text == BASE and result.diff == "" and not result.changed and result.systems == {}


def test_same_cameras_change_nothing_and_a_flagged_camera_stays_flagged() -> None:
    result = merge(BASE, {"rsd-nvr": listing("ch1", "ch2", "ch9")}, NOW)
    assert not result.changed and result.diff == ""
    ch = result.systems["rsd-nvr"]
    assert (ch.discovered, ch.added, ch.flagged, ch.unflagged, ch.still_missing) == (3, [], [], [], ["hs-old"])


def test_new_camera_is_added_unclassified_at_the_end_of_the_list() -> None:
    result = merge(BASE, {"rsd-nvr": [*listing("ch1", "ch2", "ch9"), D("ch4", "Library"), D("ch5", "Office")]}, NOW)
    lines = result.text.splitlines()
    end = lines.index("# end of cameras")
    assert lines[end - 2 : end] == [
        f'  - {{id: rsd-nvr-ch4, name: Library, site: rsd-hs, system: rsd-nvr, ref: ch4, discovered_at: "{STAMP}"}}',
        f'  - {{id: rsd-nvr-ch5, name: Office, site: rsd-hs, system: rsd-nvr, ref: ch5, discovered_at: "{STAMP}"}}',
    ]
    new = cams(result.text)["rsd-nvr-ch4"]
    assert "zone" not in new and "building" not in new and "location" not in new  # unclassified: never shared
    assert new["discovered_at"] == datetime(2026, 9, 14, 13, 0, 5, tzinfo=UTC)
    assert result.systems["rsd-nvr"].added == ["rsd-nvr-ch4", "rsd-nvr-ch5"]
    assert result.systems["rsd-nvr"].site == "rsd-hs"


def test_existing_cameras_keep_their_classification_and_every_other_byte() -> None:
    result = merge(
        BASE, {"rsd-nvr": [D("ch1", "RENAMED UPSTREAM"), D("ch2", "x"), D("ch9", "y"), D("ch4", "New")]}, NOW
    )
    before, after = BASE.splitlines(keepends=True), result.text.splitlines(keepends=True)
    end = before.index("# end of cameras\n")
    assert after[:end] == before[:end]  # comments, layout and classification untouched
    assert after[end + 1 :] == before[end:]
    assert cams(result.text)["hs-front"]["name"] == "Front door"  # the upstream name never overrides school IT's


def test_vanished_camera_is_flagged_not_dropped_and_comments_on_its_line_survive() -> None:
    result = merge(BASE, {"rsd-nvr": listing("ch1", "ch9")}, NOW)
    gym = next(line for line in result.text.splitlines() if "id: hs-gym" in line)
    assert gym.endswith(f'ref: ch2, missing_since: "{STAMP}"}}  # gym lobby')
    after = cams(result.text)
    assert after["hs-gym"]["zone"] == "interior" and after["hs-gym"]["missing_since"] == NOW.replace(microsecond=0)
    assert result.systems["rsd-nvr"].flagged == ["hs-gym"]
    assert len(after) == len(cams(BASE))


def test_flagged_camera_that_reappears_is_unflagged() -> None:
    result = merge(BASE, {"rsd-nvr": listing("ch1", "ch2", "ch3", "ch9")}, NOW)
    old = next(line for line in result.text.splitlines() if "id: hs-old" in line)
    assert old == "  - {id: hs-old, name: Old hallway, site: rsd-hs, zone: interior, system: rsd-nvr, ref: ch3}"
    assert "missing_since" not in cams(result.text)["hs-old"]
    assert result.systems["rsd-nvr"].unflagged == ["hs-old"]


def test_flag_and_unflag_round_trip_to_the_original_text() -> None:
    flagged = merge(BASE, {"rsd-nvr": listing("ch2", "ch3", "ch9")}, NOW)  # ch1 gone, ch3 back
    back = merge(flagged.text, {"rsd-nvr": listing("ch1", "ch2", "ch9")}, LATER)  # ch1 back, ch3 gone again
    assert "hs-front" in back.systems["rsd-nvr"].unflagged and "hs-old" in back.systems["rsd-nvr"].flagged
    restored = merge(back.text, {"rsd-nvr": listing("ch1", "ch2", "ch9")}, LATER)
    assert restored.text.replace('"2026-09-20T08:30:00Z"', '"2026-09-01T00:00:00Z"') == BASE


def test_a_system_that_was_not_listed_flags_nothing() -> None:
    result = merge(BASE, {"rsd-cloud": []}, NOW)  # rsd-nvr failed: not in the mapping
    assert not result.changed and set(result.systems) == {"rsd-cloud"}


def test_site_is_sync_site_then_majority_then_the_owners_only_site() -> None:
    result = merge(BASE, {"rsd-cloud": listing("a"), "rsd-nvr": [*listing("ch1", "ch2", "ch9"), D("b", "B")],
                          "rpd-cars": listing("car-7")}, NOW)  # fmt: skip
    after = cams(result.text)
    assert after["rsd-cloud-a"]["site"] == "rsd-ms"  # sync_site
    assert after["rsd-nvr-b"]["site"] == "rsd-hs"  # 3 of its 4 cameras (the flagged one counts) are at rsd-hs
    assert after["rpd-cars-car-7"]["site"] == "rpd-hq"  # no cameras yet: its owner has one site


def test_no_site_to_put_new_cameras_at_is_a_problem_not_a_guess() -> None:
    text = BASE.replace("  - {id: rpd-hq, name: Police HQ, owner: rpd, timezone: America/Chicago}\n",
                        "  - {id: rpd-hq, name: Police HQ, owner: rpd, timezone: America/Chicago}\n"
                        "  - {id: rpd-sub, name: Substation, owner: rpd, timezone: America/Chicago}\n")  # fmt: skip
    result = merge(text, {"rpd-cars": listing("car-7")}, NOW)
    assert not result.changed and result.systems["rpd-cars"].unplaced == ["car-7"]
    assert result.problems == ["system 'rpd-cars': 1 new camera(s) not added: no site to put them at; set sync_site "
                               "on the system in the inventory"]  # fmt: skip


def test_generated_ids_are_identifiers_and_unique() -> None:
    taken = {"rsd-nvr-ch4"}
    assert new_id("rsd-nvr", "ch4", taken) == "rsd-nvr-ch4-2"
    assert new_id("rsd-nvr", "CH 4", taken) == "rsd-nvr-ch-4"
    assert (
        new_id("rsd-nvr", "rtsp://10.0.0.5/Streaming/Channels/101", taken)
        == "rsd-nvr-rtsp-10.0.0.5-streaming-channels-101"
    )
    assert new_id("rsd-nvr", "!!!", taken) == "rsd-nvr-camera"
    long, again = new_id("rsd-nvr", "x" * 200, taken), new_id("rsd-nvr", "x" * 200, taken)
    assert len(long) == 64 and IDENT_RE.match(long) and long.startswith("rsd-nvr-xxx")
    assert len(again) == 64 and again.endswith("-2") and again != long
    assert slug("Kamera Über-Tür") == "kamera-ber-t-r"


def test_ids_collide_with_existing_cameras_and_each_other() -> None:
    text = BASE.replace("id: hs-manual", "id: rsd-nvr-ch4")
    result = merge(
        text, {"rsd-nvr": [*listing("ch1", "ch2", "ch9"), D("ch4", "a"), D("CH4", "b"), D("ch4", "dup")]}, NOW
    )
    assert result.systems["rsd-nvr"].added == ["rsd-nvr-ch4-2", "rsd-nvr-ch4-3"]  # "ch4" listed twice: added once
    assert result.systems["rsd-nvr"].discovered == 5


@pytest.mark.parametrize(
    "name",
    ['Hall "A": east # wing', "yes", "null", "1.5", "- dash", "{brace}", "[x]", "*alias", "&anchor", "!tag", "%pct",
     "@at", "`tick", "Tür ünd Öffnung", "tab\there", "line\nbreak", "back\\slash", "emoji 📷", "   ", "", "a: b",
     "caf\u00e9\u2028next", "bell\x07", "'single'", "ok name"],
)  # fmt: skip
def test_any_upstream_name_reads_back_as_itself(name: str) -> None:
    result = merge(BASE, {"rsd-cloud": [D("x", name)]}, NOW)
    added = cams(result.text)["rsd-cloud-x"]
    assert added["name"] == clean_name(name, "x")
    assert "\n" not in str(added["name"]) and added["name"]


@pytest.mark.parametrize("ref", ["ch 1", "yes", "1", "0x1F", "a,b", "{x}", "rtsp://h/p?q=1#f", "~", "Ä"])
def test_any_upstream_ref_reads_back_as_itself(ref: str) -> None:
    result = merge(BASE, {"rsd-cloud": [D(ref, "n")]}, NOW)
    (added,) = [c for c in cams(result.text).values() if c.get("system") == "rsd-cloud"]
    assert added["ref"] == ref
    again = merge(result.text, {"rsd-cloud": [D(ref, "n")]}, LATER)
    assert not again.changed  # matched by (system, ref) the second time


def test_diff_is_a_unified_diff_of_the_document() -> None:
    result = merge(BASE, {"rsd-nvr": listing("ch1", "ch9", "ch4")}, NOW)
    lines = result.diff.splitlines()
    assert lines[:2] == ["--- a/inventory.yaml", "+++ b/inventory.yaml"]
    assert sum(1 for line in lines if line.startswith("-  - ")) == 1  # hs-gym's line, flagged
    assert sum(1 for line in lines if line.startswith("+  - ")) == 2  # hs-gym flagged, ch4 added
    assert len(result.diff_sha256) == 64
    assert result.counts() == {"discovered": 3, "added": 1, "flagged": 1, "unflagged": 0, "still_missing": 1,
                               "unplaced": 0}  # fmt: skip


def test_block_style_cameras_are_edited_too() -> None:
    text = BASE.replace(
        "  - {id: hs-gym, name: Gym, site: rsd-hs, building: gym, zone: interior, location: {lat: 41.0, lon: -93.0}, system: rsd-nvr, ref: ch2}  # gym lobby\n",
        "  - id: hs-gym\n    name: Gym   # gym lobby\n    site: rsd-hs\n    zone: interior\n    system: rsd-nvr\n    ref: ch2\n"
        "    location:\n      lat: 41.0\n      lon: -93.0\n",
    )
    flagged = merge(text, {"rsd-nvr": listing("ch1", "ch9")}, NOW)
    assert f'      lon: -93.0\n    missing_since: "{STAMP}"\n  - {{id: ms-bus' in flagged.text
    back = merge(flagged.text, {"rsd-nvr": listing("ch1", "ch2", "ch9")}, LATER)
    assert back.text == text.replace("ch3, missing_since", "ch3, missing_since")  # hs-old stays flagged (ch3)
    assert "hs-gym" in back.systems["rsd-nvr"].unflagged


def test_block_style_list_and_empty_or_missing_cameras_get_new_items() -> None:
    head = BASE.split("cameras:")[0]
    for tail, expect in [
        ("cameras: []\n", "cameras: [{id: rsd-cloud-x"),
        ("", "\ncameras:\n  - {id: rsd-cloud-x"),
        ("cameras:\n- id: a\n  name: A\n  site: rsd-ms\n", "  site: rsd-ms\n- {id: rsd-cloud-x"),
    ]:
        result = merge(head + tail, {"rsd-cloud": listing("x")}, NOW)
        assert expect in result.text, (tail, result.text)
        assert "rsd-cloud-x" in cams(result.text)


def test_aliases_are_refused_not_guessed() -> None:
    text = BASE.replace("location: {lat: 41.0, lon: -93.0}", "location: &gym {lat: 41.0, lon: -93.0}").replace(
        "site: rsd-ms, zone: exterior, system: rsd-nvr, ref: ch9}",
        "site: rsd-ms, zone: exterior, location: *gym, system: rsd-nvr, ref: ch9}",
    )
    assert cams(text)["ms-bus"]["location"] == {"lat": 41.0, "lon": -93.0}
    flagged = merge(text, {"rsd-nvr": listing("ch1", "ch9")}, NOW)  # the anchor's own camera: edited in place
    assert cams(flagged.text)["hs-gym"]["missing_since"] and "location: &gym {lat: 41.0" in flagged.text
    with pytest.raises(MergeError, match="anchors, aliases or merge keys"):
        merge(text, {"rsd-nvr": listing("ch1", "ch2")}, NOW)  # ms-bus reads its location through an alias


def test_an_invalid_inventory_is_refused_with_its_problems() -> None:
    with pytest.raises(DocumentError) as err:
        merge(BASE.replace("site: rsd-hs, building: main", "site: nowhere, building: main"), {}, NOW)
    assert any("unknown site 'nowhere'" in line for line in err.value.lines())


def test_an_unknown_system_is_refused() -> None:
    with pytest.raises(MergeError, match="not systems of the inventory: ghost"):
        merge(BASE, {"ghost": []}, NOW)


def test_the_demo_inventory_merges_and_validates() -> None:
    text = (REPO / "config" / "inventory.yaml").read_text(encoding="utf-8")
    result = merge(text, {"ncpb-bodycams": listing("lots-ext-01", "body-01", "body-03")}, NOW)
    after = cams(result.text)
    assert after["pb-body-02"]["missing_since"] and after["ncpb-bodycams-body-03"]["site"] == "ncpb-lots"
    assert result.text.startswith("# New Canaan, CT:")

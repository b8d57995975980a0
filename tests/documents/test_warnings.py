"""Issue 13 item 19: documents that load but silently share less than meant are warned of, at FILE:LINE."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.cli.main import main
from broker.cli.validate import inventory_validate, mou_validate
from broker.documents import read_documents
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

IN_FORCE = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)  # both example MOUs are in force


@pytest.fixture
def docs(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(EXAMPLE_INVENTORY, tmp_path / "inventory.yaml")
    shutil.copytree(EXAMPLE_MOUS, tmp_path / "mou")
    return tmp_path / "inventory.yaml", tmp_path / "mou"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_examples_have_no_warnings(docs):
    inventory, mous = docs
    assert read_documents(inventory, [mous]).warnings(IN_FORCE) == []


def test_a_zone_no_mou_of_the_site_defines_is_named_with_the_zones_there_and_a_suggestion(docs):
    inventory, mous = docs
    edit(
        inventory,
        "name: Library, site: ncps-saxe, building: main, zone: interior",
        "name: Library, site: ncps-saxe, building: main, zone: intrior",
    )
    edit(
        inventory,
        "name: Bus loop, site: ncps-east, building: main, zone: exterior",
        "name: Bus loop, site: ncps-east, building: main, zone: rooftop",
    )
    (typo, far) = read_documents(inventory, [mous]).warnings(IN_FORCE)
    assert (typo.file, typo.line, typo.path, typo.code, typo.subject) == (
        str(inventory),
        line_of(inventory, "intrior"),
        "cameras.8.zone",
        "unknown_zone",
        "saxe-int-02",
    )
    assert typo.message == (
        "zone 'intrior' of camera 'saxe-int-02' is defined by no MOU covering site 'ncps-saxe' "
        "(zones there: exterior, interior, restricted). Did you mean 'interior'? Until then the "
        "camera is shared with no one."
    )
    assert "rooftop" in far.message and "Did you mean" not in far.message  # nothing close: no guess
    assert typo.text().startswith(f"{inventory}:{typo.line}: warning: cameras.8.zone: zone 'intrior'")


def test_a_camera_without_a_zone_yet_is_not_a_typo(docs):
    inventory, mous = docs  # saxe-new-01 has no zone: the School IT page's "to classify" list, not a warning
    assert "zone:" not in next(t for t in inventory.read_text().splitlines() if "saxe-new-01" in t)
    assert read_documents(inventory, [mous]).warnings(IN_FORCE) == []


@pytest.mark.parametrize(
    ("now", "code", "field", "fragment"),
    [
        (datetime(2027, 7, 1, 4, 0, tzinfo=UTC), "mou_expired", "expires", "expired on 2027-06-30 (America/New_York)"),
        (datetime(2026, 7, 1, 3, 59, tzinfo=UTC), "mou_not_yet", "effective", "not in force yet: effective 2026-07-01"),
    ],
)
def test_an_mou_out_of_force_today_is_a_warning_at_its_date(docs, now, code, field, fragment):
    inventory, mous = docs
    school = mous / "mou-ncps-ncpd.yaml"
    (warning,) = [w for w in read_documents(inventory, [mous]).warnings(now) if w.subject == "ncps-ncpd-video"]
    assert (warning.file, warning.line, warning.path, warning.code) == (
        str(school),
        line_of(school, f"{field}:"),
        field,
        code,
    )
    assert fragment in warning.message and "mou_not_in_effect" in warning.message
    edge = datetime(2027, 7, 1, 3, 59, tzinfo=UTC) if code == "mou_expired" else datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    assert read_documents(inventory, [mous]).warnings(edge) == []  # 23:59 local on expires / 00:00 on effective


def test_validate_prints_warnings_and_still_exits_0(docs, capsys):
    inventory, mous = docs
    edit(mous / "mou-ncps-ncpd.yaml", "expires: 2027-06-30", "expires: 2026-08-31")
    edit(
        inventory,
        "name: Library, site: ncps-saxe, building: main, zone: interior",
        "name: Library, site: ncps-saxe, building: main, zone: intrior",
    )
    assert mou_validate([str(mous)], str(inventory), now=IN_FORCE) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": warning: ")[1].split(":")[0] for line in out[:-1]] == ["expires", "cameras.8.zone"] and out[
        -1
    ] == "ok"
    assert mou_validate([str(mous)], None, now=IN_FORCE) == 0  # on their own: the period, not the zones
    assert [line.split(": warning: ")[1].split(":")[0] for line in capsys.readouterr().out.splitlines()[:-1]] == [
        "expires"
    ]
    assert inventory_validate([str(inventory)], [str(mous)], now=IN_FORCE) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["mou", "validate", str(mous), "--inventory", str(inventory)]) == 0  # the real clock is past 2026-08-31
    assert ": warning: expires: MOU 'ncps-ncpd-video' expired on 2026-08-31" in capsys.readouterr().out

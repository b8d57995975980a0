"""``camgate mou diff OLD NEW``: the same words and impact as the API, and FILE:LINE lines for an invalid file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.cli.main import main
from tests.admin.mous.demo_change import (
    AT,
    DEMO_INVENTORY,
    DEMO_MOU,
    V3,
    brute_force,
    changed_text,
    demo_inventory,
    parse,
)

AT_ISO = "2026-09-14T13:00:00Z"


@pytest.fixture
def v4(tmp_path: Path) -> Path:
    path = tmp_path / "v4.yaml"
    path.write_text(changed_text(), encoding="utf-8")
    return path


def test_prints_the_changes_the_impact_and_the_cameras_by_site(v4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mou", "diff", str(DEMO_MOU), str(v4), "--at", AT_ISO]) == 0  # the settings' inventory: the demo's
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"ncps-ncpd-video: version 3 ({DEMO_MOU}) -> version 4 ({v4})"
    assert out[1] == "Changes:"
    assert "  - An emergency now lasts at most 2 h with extensions (was 4 h)." in out
    impact = out[out.index("Impact:") + 1 : out.index("Cameras:")]
    assert impact[1] == (
        "  - New Canaan Police Department dispatchers: \u22126 interior cameras in emergencies (live, snapshot, "
        "playback): zone interior now never shared"
    )
    assert len(impact) == 6
    assert "  West School (ncps-west): west-ext-01 Front drive" in out


def test_json_is_the_decisions_asked_one_by_one(v4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["mou", "diff", str(DEMO_MOU), str(v4), "--inventory", str(DEMO_INVENTORY), "--at", AT_ISO, "--json"]
    assert main(argv) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["mou"], body["from"]["version"], body["to"]["version"], body["at"]) == (
        "ncps-ncpd-video",
        3,
        4,
        AT_ISO,
    )
    inv = demo_inventory()
    expected = brute_force(inv, parse(V3, inv), parse(changed_text(), inv), AT)
    got = {
        (i["agency"], i["role"], i["mode"]): {k: i[k] for k in ("gained", "lost", "reasons")} for i in body["impact"]
    }
    assert got == expected
    assert len(body["changes"]) == 10 and body["summary"] == [i["text"] for i in body["impact"]]


def test_an_invalid_file_exits_2_with_its_lines(tmp_path: Path, v4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(changed_text().replace("when: always", "when: sometimes", 1), encoding="utf-8")
    assert main(["mou", "diff", str(DEMO_MOU), str(bad), "--inventory", str(DEMO_INVENTORY)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith(f"{bad}:") for line in lines)
    assert any(": grants.0.when: unknown when 'sometimes'" in line for line in lines)
    other = tmp_path / "other.yaml"
    other.write_text(V3.replace("mou: ncps-ncpd-video", "mou: another-mou"), encoding="utf-8")
    assert main(["mou", "diff", str(DEMO_MOU), str(other)]) == 2
    assert capsys.readouterr().out.startswith(f"{other}:1: mou: 'another-mou' is not the MOU of")
    assert main(["mou", "diff", str(DEMO_MOU), str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().out
    assert main(["mou", "diff", str(DEMO_MOU), str(v4), "--at", "yesterday"]) == 2
    assert "--at 'yesterday'" in capsys.readouterr().err

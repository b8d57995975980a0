"""``camgate decide --roster FILE`` (contract section 5): batch decisions under MOU rosters (issue 14, item 5)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from broker.cli.main import main
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

KIM = {"sub": "officer-kim", "agency": "ncpd", "roles": ["officer"]}
LEE = {"sub": "officer-lee", "agency": "ncpd", "roles": ["officer"]}


def request(who: dict[str, object], camera: str) -> str:
    return json.dumps({"principal": who, "camera": camera, "action": "live", "at": "2026-09-14T13:10:00Z"})


@pytest.fixture
def mous(tmp_path: Path) -> Path:
    out = tmp_path / "mou"
    shutil.copytree(EXAMPLE_MOUS, out)
    path = out / "mou-ncps-ncpd.yaml"
    path.write_text(path.read_text() + "roster: {agencies: [ncpd]}\n")
    return out


def decide(tmp_path: Path, mous: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[tuple[str, str]]:
    reqs = tmp_path / "r.jsonl"
    reqs.write_text("\n".join([request(KIM, "saxe-ext-01"), request(LEE, "saxe-ext-01"), request(LEE, "saxe-int-01")]))
    args = ["decide", "--inventory", str(EXAMPLE_INVENTORY), "--mou", str(mous), "--requests", str(reqs), *extra]
    assert main(args) == 0
    return [(d["reason"], d["grant"]) for d in map(json.loads, capsys.readouterr().out.splitlines())]


def test_decide_with_a_roster(tmp_path: Path, mous: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps({"ncps-ncpd-video": [{"agency": "ncpd", "sub": "officer-kim", "name": "Kim"}]}))
    got = decide(tmp_path, mous, capsys, "--roster", str(roster))
    assert got == [("allowed", "G1"), ("not_on_roster", "G1"), ("not_on_roster", "G2")]
    # no roster file: the MOU's roster is empty, nobody of ncpd
    assert [r for r, _ in decide(tmp_path, mous, capsys)] == ["not_on_roster"] * 3


def test_a_bad_roster_file(tmp_path: Path, mous: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text('{"ncps-ncpd-video": [{"sub": 7}]}')
    args = ["decide", "--inventory", str(EXAMPLE_INVENTORY), "--mou", str(mous), "--roster", str(roster)]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "ncps-ncpd-video[0]" in captured.err

"""``camgate mou import`` as the real console script (issue 14): files signed on paper go into the store as
in-force versions; a second import is ``unchanged``; other text for a stored version is refused (exit 2) and
nothing is overwritten; one invalid file imports nothing (exit 2, every ``FILE:LINE`` line); and a running
broker takes the imported versions up (the document generation moves)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from broker.store import Store
from broker.store.mous import MouRepository
from tests.brokers import CAMGATE, Brokers, dev_token
from tests.cli.test_mou_replicas import live
from tests.paths import REPO
from tests.waiting import wait_for

MOUS = REPO / "policies" / "mou"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CAMGATE_MODE": "dev",
        "CAMGATE_DATA_DIR": str(tmp_path / "data"),
        "CAMGATE_MOUS__SOURCE": "store",
        "CAMGATE_POLICY__INVENTORY": str(REPO / "config" / "inventory.yaml"),
    }


def mou_import(env: dict[str, str], *paths: Path) -> subprocess.CompletedProcess[str]:
    cmd = [CAMGATE, "mou", "import", *map(str, paths)]
    return subprocess.run(cmd, env=os.environ | env, capture_output=True, text=True, timeout=120, cwd=REPO)


def outcomes(done: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    assert done.returncode == 0, done.stderr
    return [(r["mou"], r["version"], r["outcome"]) for r in map(json.loads, done.stdout.splitlines())]


def stored(tmp_path: Path) -> dict[str, list[tuple[int, int, str]]]:
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'camgate.db'}")
    try:
        return {
            m: [(r.version, r.revision, r.text) for r in f.revisions] for m, f in MouRepository(store).all().items()
        }
    finally:
        store.dispose()


def test_import_then_unchanged_then_other_text_refused_with_nothing_overwritten(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert outcomes(mou_import(env, MOUS)) == [("ncpb-ncpd-video", 1, "imported"), ("ncps-ncpd-video", 3, "imported")]
    before = stored(tmp_path)
    assert before["ncps-ncpd-video"] == [(3, 1, (MOUS / "mou-ncps-ncpd.yaml").read_text(encoding="utf-8"))]
    assert outcomes(mou_import(env, MOUS)) == [("ncpb-ncpd-video", 1, "unchanged"), ("ncps-ncpd-video", 3, "unchanged")]

    edited = tmp_path / "edited"
    edited.mkdir()
    text = (MOUS / "mou-ncps-ncpd.yaml").read_text(encoding="utf-8")
    (edited / "mou-ncps-ncpd.yaml").write_text(text.replace("max_duration: 4h", "max_duration: 2h"), encoding="utf-8")
    new_mou = (MOUS / "mou-ncpb-ncpd.yaml").read_text(encoding="utf-8").replace("ncpb-ncpd-video", "ncpb-ncpd-extra")
    (edited / "mou-extra.yaml").write_text(new_mou, encoding="utf-8")
    refused = mou_import(env, edited)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "version 3 of 'ncps-ncpd-video' is stored with other text; nothing is overwritten" in refused.stderr
    assert refused.stdout == ""
    assert stored(tmp_path) == before  # the stored text is the signed one, and the other file waited too


def test_one_invalid_file_imports_nothing_and_says_every_line(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "mou"
    shutil.copytree(MOUS, folder)
    bad = folder / "mou-ncpb-ncpd.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("version: 1", "version: 0"), encoding="utf-8")
    refused = mou_import(env, folder)
    assert refused.returncode == 2 and refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert f"{bad}:4: version: Input should be greater than or equal to 1" in lines, lines
    assert all(line.startswith(f"{bad}:") for line in lines), lines
    assert stored(tmp_path) == {}


def test_a_running_broker_takes_up_an_import(env: dict[str, str], tmp_path: Path) -> None:
    brokers = Brokers(tmp_path)
    try:
        broker = brokers.start(**{k: v for k, v in env.items() if k.startswith("CAMGATE_") and k != "CAMGATE_MODE"})
        officer = dev_token(tmp_path / "data", "officer-kim", "ncpd", ["officer"])
        generation = broker.generation()
        assert not live(broker, officer, "saxe-ext-01")  # an empty store shares nothing
        assert outcomes(mou_import(env, MOUS))[1] == ("ncps-ncpd-video", 3, "imported")
        wait_for(lambda: broker.generation() > generation, 10, "the broker to follow the import")
        assert live(broker, officer, "saxe-ext-01")
    finally:
        brokers.close()

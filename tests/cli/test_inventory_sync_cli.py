"""``camgate inventory sync``: the diff to review, ``--apply``, exit statuses, the audit record (real processes,
every discovery rig over real HTTP)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from broker.audit import AuditLog
from broker.clock import SystemClock
from broker.store import Store
from tests.api.support import free_port_url
from tests.api.sync_support import write_sync_inventory
from tests.brokers import WITH_FAKES
from tests.fakes.discovery_rigs import DiscoveryRig, only_one_rig, rigs_that, rigs_without
from tests.paths import REPO

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def inventory(tmp_path: Path, discovery_rig: DiscoveryRig) -> Path:
    return write_sync_inventory(tmp_path, discovery_rig, free_port_url())


@pytest.fixture
def sync(tmp_path: Path, inventory: Path, discovery_rig: DiscoveryRig) -> Run:
    def run(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMGATE_")} | {
            "CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
        if discovery_rig.password_env is not None:
            env[discovery_rig.password_env] = password or discovery_rig.password or ""
        cmd = [*WITH_FAKES, "inventory", "sync", "--inventory", str(inventory), *args]
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)

    return run


def audit_records(tmp_path: Path) -> list[dict[str, object]]:
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'camgate.db'}")
    try:
        records, _ = AuditLog(store, SystemClock()).query(kind="inventory.sync")
        return [r.to_dict() for r in records]
    finally:
        store.dispose()


@rigs_that("holes")
def test_without_apply_the_diff_is_printed_and_nothing_written(
    sync: Run, inventory: Path, discovery_rig: DiscoveryRig, tmp_path: Path
) -> None:
    rig, before = discovery_rig, inventory.read_bytes()
    rig.set_cameras([("ch1", "Front door"), ("ch3", "Library")])
    r = sync()
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("--- a/inventory.yaml\n+++ b/inventory.yaml\n@@ ")
    assert (
        f"+  - {{id: {rig.new_id('ch3')}, name: {rig.name('ch3', 'Library')}, site: ncps-saxe, system: ncps-nvr, "
        f"ref: {rig.yaml_ref('ch3')}, discovered_at: " in r.stdout
    )
    assert "-  - {id: saxe-nvr-ch2," in r.stdout and "missing_since" in r.stdout
    assert "ncps-nvr: 2 listed, 1 new (unclassified) at ncps-saxe, 1 newly missing, 0 back, 0 still missing" in r.stderr
    assert "ncps-vms: adapter 'hls' cannot list its cameras; skipped" in r.stderr
    assert "not written: review the diff above, then run again with --apply" in r.stderr
    assert inventory.read_bytes() == before
    (record,) = audit_records(tmp_path)
    details = record["details"]
    assert isinstance(details, dict) and details["applied"] is False and details["trigger"] == "cli"
    assert str(record["principal_sub"]).startswith("cli:")

    # The printed diff applies to the file as it is: it is the change --apply makes.
    patched = subprocess.run(["patch", "-s", "-p1", "-o", str(tmp_path / "patched.yaml"), str(inventory)],
                             input=r.stdout, text=True, capture_output=True, cwd=tmp_path, check=False)  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    applied = sync("--apply")
    assert applied.returncode == 0, applied.stderr
    instant = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')  # the second run is a little later
    assert instant.sub("T", inventory.read_text()) == instant.sub("T", (tmp_path / "patched.yaml").read_text())


def test_apply_writes_a_valid_inventory_once(
    sync: Run, inventory: Path, discovery_rig: DiscoveryRig, tmp_path: Path
) -> None:
    discovery_rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door"), ("ch3", "Library")])
    mode = 0o640
    inventory.chmod(mode)
    r = sync("--apply")
    assert r.returncode == 0, r.stderr
    assert "written (SHA-256 " in r.stderr and "`camgate reload` makes the broker serve it" in r.stderr
    text = inventory.read_text(encoding="utf-8")
    assert "# New Canaan (sync tests). School IT: classify new cameras by giving them a zone." in text
    assert "}  # the Saxe NVR\n" in text and text.endswith("\n# (end of cameras)\n")
    assert inventory.stat().st_mode & 0o777 == mode
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".sync")] == []
    validate = subprocess.run([*WITH_FAKES, "inventory", "validate", str(inventory)], cwd=REPO, capture_output=True,
                              text=True, check=False)  # fmt: skip
    assert validate.stdout.strip() == "ok", validate.stdout
    again = sync("--apply")
    assert again.returncode == 0 and again.stdout == "" and "no change" in again.stderr
    assert [d["details"]["applied"] for d in audit_records(tmp_path)] == [True, False]  # type: ignore[index]


@rigs_that("credentials")
def test_a_system_that_cannot_be_listed_exits_1_and_flags_nothing(sync: Run, inventory: Path) -> None:
    before = inventory.read_bytes()
    r = sync("--apply", password="wrong-password")
    assert r.returncode == 1
    assert "ncps-nvr: not listed: the system refused the configured credentials" in r.stderr
    assert "no change" in r.stderr and inventory.read_bytes() == before


@only_one_rig()
def test_bad_input_exits_2(sync: Run, inventory: Path) -> None:
    r = sync("--system", "ghost")
    assert r.returncode == 2 and "unknown system ghost; the inventory has: ncps-vms, ncps-nvr" in r.stderr
    assert sync("--reload").returncode == 2
    inventory.write_text(inventory.read_text().replace("site: ncps-east, zone: boiler", "site: nowhere, zone: boiler"))
    r = sync()
    assert r.returncode == 2 and f"{inventory}:20: cameras.3.site: unknown site 'nowhere'" in r.stderr


@only_one_rig()
def test_only_the_systems_named(sync: Run, discovery_rig: DiscoveryRig) -> None:
    discovery_rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door"), ("ch3", "Library")])
    r = sync("--system", "ncps-vms")
    assert r.returncode == 0 and r.stdout == "" and "ncps-nvr" not in r.stderr
    assert discovery_rig.new_id("ch3") in sync("--system", "ncps-nvr").stdout


@rigs_without("holes")
def test_a_device_numbering_its_cameras_grows_and_shrinks_at_the_end(
    sync: Run, inventory: Path, discovery_rig: DiscoveryRig
) -> None:
    """Channels 1..n (Axis image sources): a camera added is unclassified in the diff; the last one gone, flagged."""
    rig = discovery_rig
    rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door"), ("ch3", "Library")])
    grown = sync("--apply")
    assert grown.returncode == 0, grown.stderr
    assert (
        f"+  - {{id: {rig.new_id('ch3')}, name: Library, site: ncps-saxe, system: ncps-nvr, "
        f"ref: {rig.yaml_ref('ch3')}, discovered_at: " in grown.stdout
    )
    assert "ncps-nvr: 3 listed, 1 new (unclassified) at ncps-saxe, 0 newly missing" in grown.stderr
    rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door")])
    shrunk = sync()
    assert shrunk.returncode == 0, shrunk.stderr
    assert f"ref: {rig.yaml_ref('ch3')}, discovered_at: " in shrunk.stdout and "missing_since" in shrunk.stdout
    assert "ncps-nvr: 2 listed, 0 new (unclassified), 1 newly missing" in shrunk.stderr
    assert "zone:" not in inventory.read_text().splitlines()[-2]  # the added camera: still unclassified

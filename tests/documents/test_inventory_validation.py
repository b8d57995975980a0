"""Inventory validation (contract section 1)."""

import pytest

from broker.documents import load_inventory, validate_inventory_files
from tests.paths import EXAMPLE_INVENTORY

GOOD = EXAMPLE_INVENTORY.read_text()


def test_example_inventory_is_valid():
    assert validate_inventory_files([EXAMPLE_INVENTORY]) == []
    inv = load_inventory(EXAMPLE_INVENTORY)
    assert len(inv.cameras) == 17 and inv.systems[0].base_url == "http://127.0.0.1:9000/"


CASES = [
    ("site: ncps-saxe, building: main, zone: exterior", "site: ncps-nowhere, building: main, zone: exterior",
     "cameras.6.site", "unknown site 'ncps-nowhere'"),
    ("{id: ncps-vms, owner: ncps", "{id: ncps-vms, owner: ghost", "systems.0.owner", "unknown agency 'ghost'"),
    ("system: ncps-vms, ref: saxe-ext-01", "system: vms-x, ref: saxe-ext-01", "cameras.6.system", "unknown system 'vms-x'"),
    ("{id: saxe-int-01,", "{id: saxe-ext-01,", "cameras.7.id", "duplicate id 'saxe-ext-01'"),
    ("lat: 41.1488, lon: -73.4957}}", "lat: 141.1488, lon: -73.4957}}", "sites.1.location.lat", "less than or equal to 90"),
    ("timezone: America/New_York, location: {lat: 41.1488", "timezone: New_York, location: {lat: 41.1488",
     "sites.1.timezone", "unknown timezone"),
    ("kind: police}", "kind: sheriff}", "agencies.1.kind", "unknown agency kind 'sheriff'"),
    ("{id: ncpd, name:", "{id: NCPD, name:", "agencies.1.id", "invalid identifier"),
    ("{id: ncpd, name: New Canaan Police Department, kind: police}",
     "{id: ncpd, name: New Canaan Police Department, kind: police, colour: blue}", "agencies.1.colour", "unknown key"),
    # camgate extensions (inventory sync): sync_site names a site, discovered_at / missing_since are instants
    ("{id: ncps-vms, owner: ncps", "{id: ncps-vms, sync_site: ncps-mars, owner: ncps", "systems.0.sync_site",
     "unknown site 'ncps-mars'"),
    ("system: ncps-vms, ref: saxe-ext-01", "system: ncps-vms, ref: saxe-ext-01, missing_since: 2026-09-14",
     "cameras.6.missing_since", "has no offset"),
    ("system: ncps-vms, ref: saxe-ext-01", "system: ncps-vms, ref: saxe-ext-01, discovered_at: yesterday",
     "cameras.6.discovered_at", "malformed instant"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "path", "fragment"), CASES, ids=[c[2] for c in CASES])
def test_inventory_rules(tmp_path, old, new, path, fragment):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    p = tmp_path / "inv.yaml"
    p.write_text(text)
    lines = validate_inventory_files([p])
    hit = [line for line in lines if f": {path}: " in line and fragment in line]
    assert hit, lines
    lineno = int(hit[0].split(":")[1])
    assert (
        new.split(",")[0].strip("{ ") in text.splitlines()[lineno - 1]
        or path.split(".")[-1] in text.splitlines()[lineno - 1]
    )


def test_system_extra_settings_belong_to_the_adapter():
    text = GOOD.replace('base_url: "http://127.0.0.1:9000/"}', 'base_url: "http://127.0.0.1:9000/", live_path: "x"}')
    assert text != GOOD
    import yaml

    from broker.documents.inventory import Inventory

    inv = Inventory.model_validate(yaml.safe_load(text))
    assert inv.systems[0].settings == {"live_path": "x"}


def test_a_runaway_file_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    from broker.documents import loader

    big = tmp_path / "inventory.yaml"
    big.write_text("agencies: []\n" + "# padding\n" * 200)
    monkeypatch.setattr(loader, "MAX_DOCUMENT_BYTES", 1000)
    assert loader.validate_inventory_files([big]) == [f"{big}:1: (document): file larger than 1000 bytes"]


def test_sync_extensions_load(tmp_path):
    p = tmp_path / "inv.yaml"
    p.write_text(
        GOOD.replace("{id: ncps-vms, owner: ncps", "{id: ncps-vms, sync_site: ncps-saxe, owner: ncps").replace(
            "system: ncps-vms, ref: saxe-ext-01",
            'system: ncps-vms, ref: saxe-ext-01, discovered_at: "2026-09-14T09:00:00-04:00", '
            "missing_since: 2026-09-15T00:00:00Z",
        )
    )
    inv = load_inventory(p)
    assert inv.systems[0].sync_site == "ncps-saxe" and "sync_site" not in inv.systems[0].settings  # not the adapter's
    cam = next(c for c in inv.cameras if c.id == "saxe-ext-01")
    assert cam.discovered_at is not None and cam.discovered_at.isoformat() == "2026-09-14T13:00:00+00:00"
    assert cam.missing_since is not None and cam.missing_since.isoformat() == "2026-09-15T00:00:00+00:00"

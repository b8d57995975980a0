"""The catalog: what each agency may see, and the camera systems it hands to adapters."""

from broker.inventory.catalog import Catalog
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS, MODEL

CATALOG = Catalog.load(EXAMPLE_INVENTORY, [EXAMPLE_MOUS], MODEL)


def test_visible_sites_follow_mou_parties():
    police = CATALOG.visible_sites("ncpd")
    assert police == {"ncps-nchs", "ncps-saxe", "ncps-east", "ncps-south", "ncps-west", "ncpb-lots"}
    assert CATALOG.visible_sites("ncps") == police - {"ncpb-lots"}  # the owner sees its own covered sites
    assert CATALOG.visible_sites("fire") == frozenset()


def test_visible_mous_and_buildings():
    assert [m.mou for m in CATALOG.visible_mous("ncpb")] == ["ncpb-ncpd-video"]
    assert CATALOG.buildings("ncps-nchs") == {"main", "gym"}
    assert CATALOG.buildings("ncpb-lots") == frozenset()


def test_system_specs_carry_adapter_settings_not_identity_keys():
    specs = {s.id: s for s in CATALOG.system_specs()}
    assert specs["ncps-vms"].adapter == "hls" and specs["ncps-vms"].base_url == "http://127.0.0.1:9000/"
    assert dict(specs["ncps-vms"].settings) == {}


def test_camera_lookup():
    cam = CATALOG.camera("saxe-int-01")
    assert cam is not None and (cam.site, cam.zone, cam.building) == ("ncps-saxe", "interior", "main")
    assert CATALOG.camera("nope") is None

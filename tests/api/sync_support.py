"""The district of the inventory sync tests: the New Canaan MOUs, one HLS system and one discovery rig's system.

``ncps-nvr`` (the rig) lists channels ``ch1`` and ``ch2`` at first (by the refs its system gives them,
``DiscoveryRig.ref``); both are classified exterior cameras at Saxe. The Boiler room camera's zone is one no MOU
classifies. Comments are there to be kept.
"""

from __future__ import annotations

from pathlib import Path

from tests.fakes.discovery_rigs import DiscoveryRig

INVENTORY = """\
# New Canaan (sync tests). School IT: classify new cameras by giving them a zone.
agencies:
  - {{id: ncps, name: New Canaan Public Schools, kind: school_district}}
  - {{id: ncpd, name: New Canaan Police Department, kind: police}}
  - {{id: ncpb, name: New Canaan Parking Bureau, kind: parking}}

systems:
  - {{id: ncps-vms, owner: ncps, adapter: hls, base_url: "{dead}", verify_tls: false}}
  - {nvr}  # the Saxe NVR

sites:
  - {{id: ncps-saxe, name: Saxe Middle School, owner: ncps, timezone: America/New_York}}
  - {{id: ncps-east, name: East School, owner: ncps, timezone: America/New_York}}
  - {{id: ncpb-lots, name: Parking Bureau, owner: ncpb, timezone: America/New_York}}

cameras:
  - {{id: saxe-ext-01, name: Main entrance, site: ncps-saxe, building: main, zone: exterior, system: ncps-vms, ref: cam1}}
  - {{id: saxe-nvr-ch1, name: Front door, site: ncps-saxe, building: main, zone: exterior, system: ncps-nvr, ref: {ch1}}}
  - {{id: saxe-nvr-ch2, name: Gym door, site: ncps-saxe, building: gym, zone: exterior, system: ncps-nvr, ref: {ch2}}}  # gym
  - {{id: east-odd-01, name: Boiler room, site: ncps-east, zone: boiler, system: ncps-vms, ref: cam2}}
# (end of cameras)
"""
FIRST = [("ch1", "Front door"), ("ch2", "Gym door")]


def write_sync_inventory(directory: Path, rig: DiscoveryRig, dead_url: str, **system: object) -> Path:
    rig.set_cameras(FIRST)
    path = directory / "inventory.yaml"
    entry = rig.system_entry("ncps-nvr", "ncps", **({"sync_site": "ncps-saxe"} | system))
    text = INVENTORY.format(nvr=entry, dead=dead_url, ch1=rig.yaml_ref("ch1"), ch2=rig.yaml_ref("ch2"))
    path.write_text(text, encoding="utf-8")
    return path

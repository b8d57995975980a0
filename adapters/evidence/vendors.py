"""Sidecar formats mirroring what Digital Ally, Panasonic Arbitrator and Axon exports carry.

None of the three vendors publishes the layout of its export metadata, so camgate does not claim to read
their files byte for byte. For each vendor it defines a small sidecar, documented here, whose fields are the
ones the vendor's own documentation says travel with a recording; an agency's export job (or a script run
after it) writes one next to each clip. If a vendor publishes its layout, a parser for it belongs here.

**Digital Ally** (``format: digital_ally``; FirstVu body cameras, EVO/DVM in-car units, VuVault). The DVM-500
User's Guide (Rev. F, "How to Use Covert Mode") shows every recording as a pair of files with one name, video
(``.asf``) and metadata (``.mtd``), e.g. ``01F4999902007041602323501.asf`` / ``.mtd``
(https://manualshive.com/en/manual/digital-ally/dvm-500/2500305?page=16); the DVM-800 manual
(860-00186-00 Rev J, "Device Configuration") lists GPS among the unit's recorded internal events and VuVault
as its configuration and upload software (https://www.easymanua.ls/digital-ally/dvm-800/manual?p=24). The
``.mtd`` contents are not public; camgate's ``.mtd`` is ``Key: value`` lines (``#`` comments, unknown keys
ignored, ``GPS`` repeated)::

    Unit Serial: FV-0003                     (required: the device id, the camera ref)
    Unit Model: FirstVu HD
    Officer: Rivera, A.
    Officer ID: 4411
    Event Start: 2026-09-14T08:58:00-04:00   (required)
    Event End: 2026-09-14T08:59:00-04:00
    GPS: 2026-09-14T08:58:05-04:00, 41.14680, -73.49460

**Panasonic Arbitrator** (``format: arbitrator``; Arbitrator 360 in-car, Unified Digital Evidence). The
Arbitrator SI 1.9.2 Admin Manual ("Login Tab") records Officer 1 / Officer 2 names and IDs, the shift, the
*Area* and the *Source* (the vehicle) with every video (https://manualsbrain.com/fr/manuals/824792/?page=22);
the User Manual ("To Access Video Information") adds GPS latitude, longitude and speed
(https://manuzoid.com/manuals/DrKgO-Panasonic%20Arbitrator%20360%20User%20manual); the back end lists each
file with Start Time, End Time, Duration, Area, Source, Camera and UserID and exports it ("Export File",
"Convert to Standard Media Format"; https://mwitty.com/content.php?id=6998778). camgate's ``<clip>.xml``
(no DTD or entities: a file declaring any is refused)::

    <ArbitratorVideo>
      <Recording StartTime="2026-09-14T08:58:00-04:00" EndTime="..." Area="Central" Source="1005" Camera="1"/>
      <Officer1 UserID="4411" Name="Rivera, A."/>   <Officer2 .../> (optional)
      <GPS Time="2026-09-14T08:58:05-04:00" Latitude="41.1468" Longitude="-73.4946" Speed="0"/>  (repeated)
    </ArbitratorVideo>

The device id is ``<Source>-<Camera>`` (a car carries several cameras), e.g. ``1005-1``.

**Axon** (``format: axon``; Axon Body and Fleet cameras, Axon Evidence). Axon Evidence keeps per file an ID
(up to 75 characters), a title (up to 200) and *Recorded On* ("Work with evidence",
https://www.axon.com/help/axon-evidence-legacy/software/axon-evidence-legacy/evidence/manage-evidence/work-with-evidence.htm),
the owner found by name or badge ID ("Evidence details page", same help site), and location tags the camera
embeds at least every 15 seconds while recording ("Configuring Location Tracking",
https://help.axon.com/hc/en-us/articles/221367828-Configuring-Location-Tracking). camgate's
``<clip>.axon.json``::

    {"evidence_id": "NC-26-01433", "title": "Traffic stop Elm St", "recorded_on": "2026-09-14T12:58:00Z",
     "duration_seconds": 60, "device": {"model": "Axon Body 3", "serial": "X6039A1B2"},
     "owner": {"name": "Rivera, A.", "badge_id": "4411"},
     "location_tags": [{"time": "2026-09-14T12:58:05Z", "latitude": 41.1468, "longitude": -73.4946}]}

The device id is the camera's serial.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from zoneinfo import ZoneInfo

from adapters.evidence.metadata import (
    ClipMeta,
    MetadataError,
    Position,
    device_id,
    finish,
    instant,
    load_json,
    position,
    text_field,
)

_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_MTD_LINE = re.compile(r"([A-Za-z][A-Za-z ]{0,40}?)\s*:\s*(.*)")


def _officer(name: str | None, badge: str | None) -> str | None:
    if name and badge:
        return f"{name} ({badge})"
    return name or badge


def parse_digital_ally(body: bytes, zone: ZoneInfo | None) -> ClipMeta:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MetadataError("not UTF-8 text") from None
    fields: dict[str, str] = {}
    positions: list[Position] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _MTD_LINE.fullmatch(line)
        if match is None:
            raise MetadataError(f"line {number}: not 'Key: value'")
        key, value = match.group(1).strip().lower(), match.group(2).strip()
        if key == "gps":
            parts = [p.strip() for p in value.split(",")]
            if len(parts) not in (3, 4):
                raise MetadataError(f"line {number}: GPS must be 'time, latitude, longitude[, speed]'")
            positions.append(position(parts[0], parts[1], parts[2], f"line {number}: GPS", zone))
        elif key in fields:
            raise MetadataError(f"line {number}: {match.group(1).strip()!r} given twice")
        else:
            fields[key] = value
    device = device_id(fields.get("unit serial"), "Unit Serial")
    start = instant(fields.get("event start"), "Event Start", zone)
    end = instant(fields["event end"], "Event End", zone) if fields.get("event end") else None
    model = text_field(fields.get("unit model")) or "Digital Ally unit"
    details = {"serial": device, "model": model}
    officer = _officer(text_field(fields.get("officer")), text_field(fields.get("officer id")))
    return finish(device, start, end, positions, officer=officer, name=f"{model} {device}", details=details)


def parse_arbitrator(body: bytes, zone: ZoneInfo | None) -> ClipMeta:
    if _DECLARATION.search(body):
        raise MetadataError("declares a DTD or entities, which an Arbitrator sidecar never needs: refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MetadataError(f"not well-formed XML: {exc}") from None
    if root.tag != "ArbitratorVideo":
        raise MetadataError(f"root element is <{root.tag[:40]}>, not <ArbitratorVideo>")
    recordings = root.findall("Recording")
    if len(recordings) != 1:
        raise MetadataError(f"needs exactly one <Recording>, found {len(recordings)}")
    rec = recordings[0].attrib
    source = device_id(rec.get("Source"), "Recording/@Source")
    camera = device_id(rec.get("Camera", "1"), "Recording/@Camera")
    device = device_id(f"{source}-{camera}", "Source-Camera")
    start = instant(rec.get("StartTime"), "Recording/@StartTime", zone)
    end = instant(rec["EndTime"], "Recording/@EndTime", zone) if rec.get("EndTime") else None
    officers = []
    for tag in ("Officer1", "Officer2"):
        element = root.find(tag)
        if element is not None:
            name = _officer(text_field(element.get("Name")), text_field(element.get("UserID")))
            if name:
                officers.append(name)
    positions = [
        position(g.get("Time"), g.get("Latitude"), g.get("Longitude"), f"<GPS> #{i + 1}", zone)
        for i, g in enumerate(root.iter("GPS"))
    ]
    details = {"vehicle": source, "camera": camera}
    if area := text_field(rec.get("Area"), 80):
        details["area"] = area
    return finish(device, start, end, positions, officer="; ".join(officers) or None,
                  name=f"Arbitrator vehicle {source} camera {camera}", details=details)  # fmt: skip


def parse_axon(body: bytes, zone: ZoneInfo | None) -> ClipMeta:
    data = load_json(body)
    device_info = data.get("device")
    if not isinstance(device_info, dict):
        raise MetadataError("device is missing or not an object with a serial")
    device = device_id(device_info.get("serial"), "device.serial")
    start = instant(data.get("recorded_on"), "recorded_on", zone)
    end = None
    if data.get("duration_seconds") is not None:
        seconds = data["duration_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 86_400:
            raise MetadataError(f"duration_seconds {str(seconds)[:20]!r} is not a number of seconds in (0, 86400]")
        end = start + timedelta(seconds=seconds)
    owner = data["owner"] if isinstance(data.get("owner"), dict) else {}
    tags = data.get("location_tags")
    tags = [] if tags is None else tags
    if not isinstance(tags, list):
        raise MetadataError("location_tags is not a list")
    positions = []
    for i, tag in enumerate(tags):
        if not isinstance(tag, dict):
            raise MetadataError(f"location_tags[{i}] is not an object")
        positions.append(position(tag.get("time"), tag.get("latitude"), tag.get("longitude"),
                                  f"location_tags[{i}]", zone))  # fmt: skip
    model = text_field(device_info.get("model"), 80) or "Axon camera"
    details = {"serial": device, "model": model}
    for key, limit in (("evidence_id", 75), ("title", 200)):
        if value := text_field(data.get(key), limit):
            details[key] = value
    officer = _officer(text_field(owner.get("name")), text_field(owner.get("badge_id")))
    return finish(device, start, end, positions, officer=officer, name=f"{model} {device}", details=details)

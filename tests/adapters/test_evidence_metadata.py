"""The evidence sidecars (adapters/evidence/metadata.py, vendors.py): every format read into one ClipMeta, and
every malformed file refused with a message that says what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.evidence.metadata import ClipMeta, MetadataError, Position
from adapters.evidence.scanner import SIDECARS
from tests.fakes.evidence import sidecar

START = datetime(2026, 9, 14, 12, 58, tzinfo=UTC)
FIX = [(START + timedelta(seconds=10), 41.1469, -73.4947), (START + timedelta(seconds=5), 41.1468, -73.4946)]
NEW_YORK = ZoneInfo("America/New_York")


def parse(fmt: str, text: str | bytes, zone: ZoneInfo | None = None) -> ClipMeta:
    return SIDECARS[fmt][1](text.encode() if isinstance(text, str) else text, zone)


@pytest.mark.parametrize(
    ("fmt", "device", "name", "officer"),
    [
        ("generic", "pb-body-03", "Evidence device pb-body-03", "Rivera, A."),
        ("axon", "X6039A1B2", "Axon Body 3 X6039A1B2", "Rivera, A. (4411)"),
        ("digital_ally", "FV-0003", "FirstVu HD FV-0003", "Rivera, A. (4411)"),
        ("arbitrator", "1005-2", "Arbitrator vehicle 1005 camera 2", "Rivera, A. (4411)"),
    ],
)
def test_every_format_reads_device_officer_times_and_positions(fmt: str, device: str, name: str, officer: str) -> None:
    suffix, text = sidecar(fmt, device, START, 60, FIX)
    assert suffix == SIDECARS[fmt][0]
    meta = parse(fmt, text)
    assert (meta.device, meta.name, meta.officer) == (device, name, officer)
    assert meta.start == START and meta.end == START + timedelta(seconds=60)
    assert meta.positions == (Position(FIX[1][0], 41.1468, -73.4946), Position(FIX[0][0], 41.1469, -73.4947))  # by time


def test_vendor_details_travel_with_the_device() -> None:
    assert parse("arbitrator", sidecar("arbitrator", "1005-2", START, 60, [])[1]).details == {
        "vehicle": "1005", "camera": "2", "area": "Central"}  # fmt: skip
    axon = parse("axon", sidecar("axon", "X6039A1B2", START, 60, [])[1]).details
    assert axon == {
        "serial": "X6039A1B2",
        "model": "Axon Body 3",
        "evidence_id": "NC-26-01433",
        "title": "Traffic stop",
    }


def test_a_time_without_offset_needs_the_systems_time_zone() -> None:
    text = "Unit Serial: FV-1\nEvent Start: 2026-09-14 08:58:00\nEvent End: 2026-09-14T08:59:00-04:00\n"
    with pytest.raises(MetadataError, match="Event Start '2026-09-14 08:58:00' has no UTC offset; add one, or set"):
        parse("digital_ally", text)
    meta = parse("digital_ally", text, NEW_YORK)
    assert meta.start == START and meta.end == START + timedelta(minutes=1)  # EDT is UTC-4 in September


# fmt: off
MALFORMED: list[tuple[str, str | bytes, str]] = [
    ("generic", "{", "not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    ("generic", b"\xff\xfe", "not UTF-8 text"),
    ("generic", "[]", "not a JSON object"),
    ("generic", '{"start": "2026-09-14T12:58:00Z"}', "device is missing or not text"),
    ("generic", '{"device": "../../etc", "start": "2026-09-14T12:58:00Z"}', "device '../../etc' is not 1-64 of"),
    ("generic", '{"device": "a b", "start": "2026-09-14T12:58:00Z"}', "device 'a b' is not 1-64 of"),
    ("generic", '{"device": "d", "start": "yesterday"}', "start is missing or not a date-time"),
    ("generic", '{"device": "d", "start": "2026-13-14T12:58:00Z"}', "start '2026-13-14T12:58:00Z' is not an ISO 8601"),
    ("generic", '{"device": "d", "start": "2026-09-14T12:58:00Z", "end": "2026-09-14T12:57:00Z"}', "end 2026-09-14T12:57:00+00:00 is not after start"),
    ("generic", '{"device": "d", "start": "2026-09-14T12:58:00Z", "positions": {}}', "positions is not a list"),
    ("generic", '{"device": "d", "start": "2026-09-14T12:58:00Z", "positions": [{"at": "2026-09-14T12:58:00Z", "lat": 91, "lon": 0}]}', "positions[0] latitude 91.0 is outside [-90, 90]"),
    ("generic", '{"device": "d", "start": "2026-09-14T12:58:00Z", "positions": [{"at": "2026-09-14T12:58:00Z", "lat": "NaN", "lon": 0}]}', "positions[0] latitude nan is outside"),
    ("axon", '{"recorded_on": "2026-09-14T12:58:00Z"}', "device is missing or not an object with a serial"),
    ("axon", '{"device": {"serial": "X1"}, "recorded_on": "2026-09-14T12:58:00Z", "duration_seconds": -5}', "duration_seconds '-5' is not a number of seconds"),
    ("digital_ally", "Unit Serial FV-1\n", "line 1: not 'Key: value'"),
    ("digital_ally", "Unit Serial: FV-1\nUnit Serial: FV-2\n", "line 2: 'Unit Serial' given twice"),
    ("digital_ally", "Unit Serial: FV-1\nEvent Start: 2026-09-14T12:58:00Z\nGPS: 41.1, -73.4\n", "line 3: GPS must be 'time, latitude, longitude[, speed]'"),
    ("digital_ally", "Event Start: 2026-09-14T12:58:00Z\n", "Unit Serial is missing or not text"),
    ("arbitrator", "<ArbitratorVideo>", "not well-formed XML"),
    ("arbitrator", '<!DOCTYPE x [<!ENTITY a "b">]><ArbitratorVideo/>', "declares a DTD or entities"),
    ("arbitrator", "<Other/>", "root element is <Other>, not <ArbitratorVideo>"),
    ("arbitrator", "<ArbitratorVideo/>", "needs exactly one <Recording>, found 0"),
    ("arbitrator", '<ArbitratorVideo><Recording StartTime="2026-09-14T12:58:00Z" Source="Unit 7"/></ArbitratorVideo>', "Recording/@Source 'Unit 7' is not 1-64"),
]
# fmt: on


@pytest.mark.parametrize(("fmt", "text", "message"), MALFORMED)
def test_malformed_metadata_is_refused_saying_what_is_wrong(fmt: str, text: str | bytes, message: str) -> None:
    with pytest.raises(MetadataError) as info:
        parse(fmt, text)
    assert message in str(info.value)


def test_an_entity_expansion_bomb_is_refused_before_parsing() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]><ArbitratorVideo>&i;</ArbitratorVideo>"  # fmt: skip
    with pytest.raises(MetadataError, match="DTD or entities"):
        parse("arbitrator", bomb)

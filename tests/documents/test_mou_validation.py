"""MOU validation: every rule of contract section 2, reported as FILE:LINE: path: message."""

import re
from pathlib import Path

import pytest
import yaml

from broker.documents import load_inventory, load_mous, validate_mou_files
from broker.errors import DocumentError
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

GOOD = (EXAMPLE_MOUS / "mou-ncps-ncpd.yaml").read_text()
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<path>\S+): (?P<msg>.+)$")


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def errors(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    p = write(tmp_path, text)
    out = []
    for line in validate_mou_files([p], EXAMPLE_INVENTORY):
        m = LINE.match(line)
        assert m, line
        assert m["file"] == str(p)
        out.append((int(m["line"]), m["path"], m["msg"]))
    return out


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_examples_are_valid():
    assert validate_mou_files([EXAMPLE_MOUS], EXAMPLE_INVENTORY) == []
    inv = load_inventory(EXAMPLE_INVENTORY)
    assert [m.mou for m in load_mous([EXAMPLE_MOUS], inv)] == ["ncpb-ncpd-video", "ncps-ncpd-video"]


CASES = [
    # (replace old, with new, expected path, message fragment)
    ("recipients: [ncpd]", "recipients: [ncpd, ghost]", "parties.recipients.1", "unknown agency 'ghost'"),
    ('sites: ["*"]', "sites: [ncps-saxe, ncpb-lots]", "sites.1", "owned by 'ncpb'"),
    ('sites: ["*"]', "sites: [nowhere]", "sites.0", "unknown site 'nowhere'"),
    ("zones: [exterior]\n", "zones: [exterior, attic]\n", "grants.0.zones.1", "unknown zone 'attic'"),
    ("zones: [exterior]\n", "zones: [exterior, restricted]\n", "grants.0.zones.1", "never shared"),
    (
        "    agency: ncpd\n    roles: [officer, dispatcher, supervisor]\n    zones: [exterior]",
        "    agency: ncps\n    roles: [officer, dispatcher, supervisor]\n    zones: [exterior]",
        "grants.0.agency",
        "not in parties.recipients",
    ),
    (
        "actions: [live, snapshot, playback]\n    when: always",
        "actions: [live, teleport]\n    when: always",
        "grants.0.actions.1",
        "unknown action 'teleport'",
    ),
    ("when: always", "when: sometimes", "grants.0.when", "unknown when 'sometimes'"),
    (
        "when: always",
        "when: always\n    schedule: {days: [mon, funday]}",
        "grants.0.schedule.days.1",
        "unknown weekday",
    ),
    (
        "when: always",
        'when: always\n    schedule: {hours: "16:00-07:00"}',
        "grants.0.schedule.hours",
        "end must be after start",
    ),
    ("when: always", 'when: always\n    schedule: {hours: "7am-4pm"}', "grants.0.schedule.hours", "HH:MM-HH:MM"),
    ("max_age: 7d", "max_age: 7 days", "grants.0.playback.max_age", "malformed duration"),
    ("effective: 2026-07-01", "effective: 2026-13-01", "effective", "malformed date"),
    ("timezone: America/New_York", "timezone: Mars/Olympus", "timezone", "unknown timezone"),
    ("expires: 2027-06-30", "expires: 2025-06-30", "expires", "before effective"),
    # text a reader sees: no NUL (PostgreSQL stores none) and no bidi override hiding what it says
    (
        "title: Police access to New Canaan Public Schools video",
        'title: "Police \\0 access"',
        "title",
        "control character U+0000",
    ),
    ('clause: "4.1"', 'clause: "4.1\\u202e"', "grants.0.clause", "control character U+202E"),
    # dates whose local midnight (or the day after expires) is no instant a computer can hold: once a 500
    ("expires: 2027-06-30", "expires: 9999-12-31", "expires", "between 1900-01-01 and 9998-12-31"),
    ("effective: 2026-07-01", "effective: 0001-01-01", "effective", "between 1900-01-01 and 9998-12-31"),
    ("default_duration: 60m", "default_duration: 6h", "emergency.default_duration", "above max_duration"),
    ("when: always", "when: always\n    colour: blue", "grants.0.colour", "unknown key 'colour'"),
    ("version: 3", "version: 3\nsignatory: someone", "signatory", "unknown key"),
    (
        "playback: {from: -30s}\n  - id: G3",
        "playback: {max_age: 1d}\n  - id: G3",
        "grants.1.playback.max_age",
        "always-grants only",
    ),
    ("max_age: 7d", "from: -30s", "grants.0.playback.from", "emergency-grants only"),
    ("  - id: G2", "  - id: G1", "grants.1.id", "duplicate grant id"),
    ("version: 3", "version: 0", "version", "greater than or equal to 1"),
    ("mou: ncps-ncpd-video", "mou: NCPS Video", "mou", "invalid identifier"),
    # camgate's extensions: emergency.triggers and emergency.confirm (README, "MOU extensions")
    (
        "  require: [threat]",
        "  require: [threat]\n  triggers: [ncps, NCPS]",
        "emergency.triggers.1",
        "invalid identifier",
    ),
    (
        "  require: [threat]",
        "  require: [threat]\n  triggers: [ncps, ncps]",
        "emergency.triggers",
        "duplicate trigger source",
    ),
    (
        "  require: [threat]",
        "  require: [threat]\n  confirm: {by: [{agency: ghost, roles: [x]}], within: 10m}",
        "emergency.confirm.by.0.agency",
        "unknown agency 'ghost'",
    ),
    (
        "  require: [threat]",
        "  require: [threat]\n  confirm: {by: [], within: 10m, colour: red}",
        "emergency.confirm.colour",
        "unknown key",
    ),
    (
        "  require: [threat]",
        "  require: [threat]\n  confirm: {by: [], within: soon}",
        "emergency.confirm.within",
        "malformed duration",
    ),
    (
        "  require: [threat]",
        "  require: [threat]\n  confirm: {by: [], within: 5h}",
        "emergency.confirm.within",
        "above max_duration",
    ),
    (
        "  require: [threat]",
        "  require: [threat]\n  confirm: {by: [], within: 0m}",
        "emergency.confirm.within",
        "positive",
    ),
]


@pytest.mark.parametrize(("old", "new", "path", "fragment"), CASES, ids=[c[2] + ":" + c[3][:20] for c in CASES])
def test_each_rule_reports_field_and_line(tmp_path, old, new, path, fragment):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    errs = errors(tmp_path, text)
    hits = [e for e in errs if e[1] == path and fragment in e[2]]
    assert hits, errs
    key = path.split(".")[-1]
    if not key.isdigit():
        assert hits[0][0] == line_of(text, new.split("\n")[-1].strip()) or key in text.splitlines()[hits[0][0] - 1]


def test_a_grant_must_cite_its_clause(tmp_path):
    """Issue 13 item 19: a grant without `clause` made decisions citing `clause: null`; every grant cites one."""
    text = GOOD.replace('    clause: "4.1"\n', "", 1)
    assert (line_of(text, "- id: G1"), "grants.0.clause", "required field missing") in errors(tmp_path, text)
    text = GOOD.replace('clause: "4.2"', 'clause: ""', 1)
    assert any(e[1] == "grants.1.clause" and "at least 1 character" in e[2] for e in errors(tmp_path, text))


def test_several_errors_are_all_reported(tmp_path):
    text = (
        GOOD.replace("max_age: 7d", "max_age: soon")
        .replace("when: always", "when: never")
        .replace("version: 3", "version: 3\nextra: 1")
    )
    paths = {e[1] for e in errors(tmp_path, text)}
    assert {"grants.0.playback.max_age", "grants.0.when", "extra"} <= paths


def test_emergency_section_required_with_emergency_grants(tmp_path):
    text = GOOD.split("emergency:\n")[0]
    assert ("emergency", "required: a grant has when: emergency") in [(e[1], e[2]) for e in errors(tmp_path, text)]


def test_duplicate_mou_ids_across_files(tmp_path):
    a, b = write(tmp_path, GOOD, "a.yaml"), write(tmp_path, GOOD, "b.yaml")
    lines = validate_mou_files([a, b], EXAMPLE_INVENTORY)
    assert lines == [f"{b}:1: mou: duplicate mou id 'ncps-ncpd-video' (also in {a})"] or any(
        "duplicate mou id" in x and x.startswith(f"{b}:") for x in lines
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("mou: [unclosed\n", "YAML syntax error"),
        ("", "expected a mapping"),
        ("- a\n- b\n", "expected a mapping"),
        ("mou: x\nmou: y\n", "duplicate key"),
        ("a: !!python/object:os.system x\n", "YAML"),
    ],
)
def test_garbage_files_get_a_message_not_a_traceback(tmp_path, text, fragment):
    lines = validate_mou_files([write(tmp_path, text)], None)
    assert lines and any(fragment in line for line in lines), lines


def test_missing_file_and_empty_directory(tmp_path):
    assert "no such file" in validate_mou_files([tmp_path / "nope.yaml"])[0]
    (tmp_path / "empty").mkdir()
    assert "no MOU files found" in validate_mou_files([tmp_path / "empty"])[0]


def test_without_inventory_references_are_not_checked(tmp_path):
    text = GOOD.replace("recipients: [ncpd]", "recipients: [ncpd, ghost]")
    assert validate_mou_files([write(tmp_path, text)]) == []


def test_load_mous_raises_document_error_with_all_issues(tmp_path):
    bad = write(tmp_path, GOOD.replace("when: always", "when: sometimes"))
    with pytest.raises(DocumentError) as exc:
        load_mous([bad], load_inventory(EXAMPLE_INVENTORY))
    assert exc.value.status == 422 and "grants.0.when" in exc.value.lines()[0]


def test_unquoted_clause_number_is_text(tmp_path):
    doc = yaml.safe_load(GOOD)
    doc["grants"][0]["clause"] = 4.1
    p = write(tmp_path, yaml.safe_dump(doc))
    (mou,) = load_mous([p], load_inventory(EXAMPLE_INVENTORY))
    assert mou.grants[0].clause == "4.1"


def test_documents_valid_under_the_contract_load_even_when_odd(tmp_path):
    """Durations may be negative (contract preamble); only the listed rules make a document invalid."""
    text = GOOD.replace("max_age: 7d", "max_age: -1d").replace("from: -30s}\n  - id: G3", "from: 5m}\n  - id: G3")
    assert errors(tmp_path, text) == []


def test_empty_lists_and_bare_zone_keys_load(tmp_path):
    text = GOOD.replace("  exterior: {}", "  exterior:").replace(
        "roles: [supervisor]\n    zones: [interior]", "roles: []\n    zones: [interior]"
    )
    assert "  exterior:\n" in text and "roles: []" in text
    assert errors(tmp_path, text) == []


def test_the_extensions_load(tmp_path):
    text = GOOD.replace(
        "  require: [threat]",
        "  require: [threat]\n  triggers: [ncps]\n  confirm:\n"
        "    by: [{agency: ncpd, roles: [dispatcher]}]\n    within: 10m",
    )
    assert errors(tmp_path, text) == []
    (mou,) = load_mous([write(tmp_path, text)], load_inventory(EXAMPLE_INVENTORY))
    assert mou.emergency is not None and mou.emergency.triggers == ["ncps"]
    assert mou.emergency.confirm is not None and mou.emergency.confirm.within.total_seconds() == 600

"""The redline of two MOU versions in plain words (issue 14, item 3): exact sentences, in order."""

from __future__ import annotations

from broker.admin.mous.diff import diff_mous
from broker.admin.mous.impact import names_of
from tests.admin.mous.demo_change import V3, changed_text, demo_inventory, parse
from tests.paths import REPO

POLICE = "New Canaan Police Department"
SCHOOLS = "every New Canaan Public Schools site"


def changes(old: str, new: str) -> list[tuple[str, str, str, str]]:
    inv = demo_inventory()
    return [(c.area, c.change, c.path, c.text) for c in diff_mous(parse(old, inv), parse(new, inv), names_of(inv))]


def test_the_demo_change_reads_exactly() -> None:
    g1 = f"{POLICE} officers, dispatchers and supervisors may watch live video"
    assert changes(V3, changed_text()) == [
        (
            "title",
            "changed",
            "title",
            "The title is now 'Police access to school video' (was 'Police access to New Canaan Public Schools video').",
        ),
        ("dates", "changed", "expires", "In force through 30 June 2028 (was through 30 June 2027)."),
        (
            "zones",
            "changed",
            "zones.interior.never",
            "Interior cameras are now never shared, by any grant or in any emergency.",
        ),
        (
            "zones",
            "changed",
            "zones.interior.education_records",
            "Footage of interior cameras is no longer treated as a FERPA education record.",
        ),
        (
            "grants",
            "changed",
            "grants.G1",
            "Grant G1 (clause 4.1) changes what they may do and which footage. "
            f"Now: {g1} and play back recorded footage of exterior cameras at {SCHOOLS}, at any time; recorded footage "
            "up to 3 days old (clause 4.1). "
            f"Before: {g1}, take snapshots and play back recorded footage of exterior cameras at {SCHOOLS}, at any "
            "time; recorded footage up to 7 days old (clause 4.1).",
        ),
        (
            "grants",
            "changed",
            "grants.G3",
            "Grant G3 (clause 4.3) changes which cameras. "
            f"Now: {POLICE} supervisors may export recorded footage of exterior cameras at {SCHOOLS}, only during a "
            "declared emergency, for up to 2 h; pre-event footage from 30 s before the declaration (clause 4.3). "
            f"Before: {POLICE} supervisors may export recorded footage of interior cameras at {SCHOOLS}, only during a "
            "declared emergency, for up to 4 h; pre-event footage from 30 s before the declaration (clause 4.3).",
        ),
        (
            "grants",
            "added",
            "grants.G4",
            f"Grant G4 (clause 4.4) added: {POLICE} dispatchers may export recorded footage of exterior cameras at "
            f"{SCHOOLS}, on Monday to Friday from 08:00 to 16:00, America/New_York time; recorded footage up to 1 day "
            "old (clause 4.4).",
        ),
        (
            "grants",
            "removed",
            "grants.G2",
            f"Grant G2 (clause 4.2) removed. It said: {g1}, take snapshots and play back recorded footage of interior "
            f"cameras at {SCHOOLS}, only during a declared emergency, for up to 4 h; pre-event footage from 30 s before "
            "the declaration (clause 4.2).",
        ),
        (
            "emergency",
            "changed",
            "emergency.max_duration",
            "An emergency now lasts at most 2 h with extensions (was 4 h).",
        ),
        (
            "emergency",
            "changed",
            "emergency.require",
            "A declaration must now state the threat and incident (was the threat).",
        ),
    ]


def test_the_same_text_has_no_change() -> None:
    assert changes(V3, V3) == []


def test_dates_parties_sites_and_zones() -> None:
    new = (
        V3.replace("effective: 2026-07-01", "effective: 2026-09-15")
        .replace("expires: 2027-06-30\n", "")
        .replace("recipients: [ncpd]", "recipients: [ncpd, ncpb]")
        .replace('sites: ["*"]', "sites: [ncps-saxe]")
        .replace("restricted: {never: true}", "gym: {never: true}")
        .replace("timezone: America/New_York", "timezone: America/Chicago")
    )
    assert changes(V3, new) == [
        ("dates", "changed", "effective", "In force from 15 September 2026 (was from 1 July 2026)."),
        ("dates", "changed", "expires", "In force with no end date (was through 30 June 2027)."),
        (
            "dates",
            "changed",
            "timezone",
            "Dates and schedules are now read in America/Chicago time (was America/New_York).",
        ),
        ("parties", "added", "parties.recipients.ncpb", "New Canaan Parking Bureau becomes a recipient of this MOU."),
        ("sites", "changed", "sites", f"It now covers Saxe Middle School (was {SCHOOLS})."),
        ("zones", "added", "zones.gym", "New zone: gym cameras; never shared, by any grant or in any emergency."),
        ("zones", "removed", "zones.restricted", "Zone removed: restricted cameras are no longer named by this MOU."),
    ]


def test_every_emergency_rule() -> None:
    new = (
        V3.replace("    - {agency: ncps, roles: [principal, superintendent]}\n", "")
        .replace("    - {agency: ncps, roles: [superintendent]}\n", "")
        .replace("default_duration: 60m", "default_duration: 30m")
        .replace("triggers: [ncps] ", "triggers: []")
        .replace("    within: 10m", "    within: 5m")
    )
    assert changes(V3, new) == [
        (
            "emergency",
            "changed",
            "emergency.declare",
            f"Emergencies may now be declared by {POLICE} dispatchers and supervisors (was {POLICE} dispatchers and "
            "supervisors and New Canaan Public Schools principals and superintendents).",
        ),
        (
            "emergency",
            "changed",
            "emergency.end",
            f"Emergencies may now be ended by the declarer and {POLICE} supervisors (was the declarer, {POLICE} "
            "supervisors and New Canaan Public Schools superintendents).",
        ),
        (
            "emergency",
            "changed",
            "emergency.default_duration",
            "An emergency now lasts 30 min unless set otherwise (was 1 h).",
        ),
        ("emergency", "changed", "emergency.triggers", "Signed alarms that may now declare: nothing (was ncps)."),
        (
            "emergency",
            "changed",
            "emergency.confirm",
            f"An alarm's declaration must now be confirmed by {POLICE} dispatchers and supervisors within 5 min (was "
            f"{POLICE} dispatchers and supervisors within 10 min).",
        ),
    ]


def test_emergency_rules_added_and_removed() -> None:
    parking = (REPO / "policies" / "mou" / "mou-ncpb-ncpd.yaml").read_text(encoding="utf-8")
    without = parking.replace("    when: emergency", "    when: always").replace(
        "playback: {from: -30s}", "playback: {}"
    )
    without = without[: without.index("emergency:\n")]
    removed = changes(parking, without)[-1]
    assert removed[:3] == ("emergency", "removed", "emergency")
    assert removed[3].startswith("Emergency rules removed: no emergency can be declared under this MOU. They said: ")
    added = changes(without, parking)[-1]
    assert added[:3] == ("emergency", "added", "emergency")
    assert added[3].startswith(f"Emergency rules added: Emergencies are declared by {POLICE} dispatchers")

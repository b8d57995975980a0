"""AuditScope: the same rule in SQL (``where``) and in Python (``admits``), on SQLite and PostgreSQL; the settings
that name oversight auditors."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import ValidationError

from broker.audit import AuditLog
from broker.audit.scope import AuditScope
from broker.settings import AuditSettings

AGENCIES = (None, "ncps", "ncpd", "ncpb")
CAMERAS = (None, "saxe-ext-01", "lots-ext-01", "gone-01", "o'brien")  # a camera of no agency; a quote in an id
MOUS = (None, "ncps-ncpd-video", "ncpb-ncpd-video")


@pytest.fixture
def every_kind(audit: AuditLog) -> AuditLog:
    """One record per (principal agency, camera, mou): every combination the rule distinguishes."""
    for agency, camera, mou in itertools.product(AGENCIES, CAMERAS, MOUS):
        audit.append("decision", principal_sub="s" if agency else None, principal_agency=agency, camera=camera, mou=mou)
    return audit


SCOPES = {
    "ncps": AuditScope.of("ncps", ["saxe-ext-01", "o'brien"], ["ncps-ncpd-video"]),
    "ncpd": AuditScope.of("ncpd", [], ["ncps-ncpd-video", "ncpb-ncpd-video"]),
    "ncpb": AuditScope.of("ncpb", ["lots-ext-01"], ["ncpb-ncpd-video"]),
    "nobody": AuditScope.of("ncfd", [], []),
}


@pytest.mark.parametrize("name", sorted(SCOPES))
def test_sql_and_python_agree(every_kind: AuditLog, name: str) -> None:
    scope = SCOPES[name]
    everything, _ = every_kind.query(limit=1000)
    assert len(everything) == len(AGENCIES) * len(CAMERAS) * len(MOUS)
    in_sql, _ = every_kind.query(limit=1000, scope=scope)
    assert [r.seq for r in in_sql] == [r.seq for r in everything if scope.admits(r)]


def test_the_rule(every_kind: AuditLog) -> None:
    records, _ = every_kind.query(limit=1000, scope=SCOPES["ncps"])
    got = {(r.principal_agency, r.camera, r.mou) for r in records}
    mine = {(a, c, m) for a, c, m in itertools.product(AGENCIES, CAMERAS, MOUS) if a == "ncps"}
    cameras = {(a, c, m) for a, c, m in itertools.product(AGENCIES, CAMERAS, MOUS) if c in ("saxe-ext-01", "o'brien")}
    mous = {(a, None, "ncps-ncpd-video") for a in AGENCIES}  # no camera, under its MOU
    assert got == mine | cameras | mous
    assert not {(a, c, m) for a, c, m in got if a != "ncps" and c in ("lots-ext-01", "gone-01")}  # others' cameras
    assert every_kind.query(limit=1000, scope=SCOPES["nobody"])[0] == []


def test_emergency_records_are_scoped_too(audit: AuditLog) -> None:
    audit.append("session.start", principal_agency="ncpd", camera="saxe-ext-01", emergency="em-1")
    audit.append("session.start", principal_agency="ncpd", camera="lots-ext-01", emergency="em-1")
    audit.append("emergency.declare", principal_agency="ncpd", mou="ncps-ncpd-video", emergency="em-1")
    kinds = ["session.start", "emergency.declare"]
    records, complete = audit.emergency_records("em-1", kinds, scope=SCOPES["ncpb"])
    assert [r.camera for r in records] == ["lots-ext-01"] and complete
    assert len(audit.emergency_records("em-1", kinds, scope=SCOPES["ncpd"])[0]) == 3
    assert len(audit.emergency_records("em-1", kinds)[0]) == 3


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"oversight": [{"agency": "state", "roles": ["admin"]}]}, "not among audit.roles"),
        ({"agencies": ["ncps"], "oversight": [{"agency": "state"}]}, "not among audit.agencies"),
        ({"oversight": [{"agency": ""}]}, "at least 1 character"),
        ({"oversight": [{"agency": "state", "roles": []}]}, "at least 1 item"),
        ({"oversight": ["state"]}, "valid dictionary"),
    ],
)
def test_oversight_settings_that_could_not_work_are_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        AuditSettings(**settings)


def test_no_oversight_by_default() -> None:
    assert AuditSettings().oversight == []

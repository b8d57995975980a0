"""Which audit records an auditor reads: their own agency's, unless the settings name them an oversight auditor.

An agency's auditor reads the records *about their agency* (:class:`AuditScope`):

- every record of one of its people (``principal_agency``: what they watched, declared, were refused);
- every record about one of its cameras (``camera``: who watched it, under which clause, who was refused);
- the records about no camera under an MOU it is a party to (``mou``, ``camera`` null: an emergency's
  declaration, extension, confirmation and end, its notices, a refused declaration).

Records about nobody's agency (an anonymous refusal, a trigger with a bad signature, the broker's own
housekeeping) and about other agencies' people on other agencies' cameras are for oversight auditors
(settings ``audit.oversight``) only. Least privilege (NIST SP 800-53 AC-6): an MOU shares an agency's cameras,
not every agency's audit trail; FERPA 34 CFR 99.32(c): a school's record of disclosures is inspected by the
school, the parties it names and those auditing it, not by other agencies' staff.

The scope is evaluated in SQL (:meth:`AuditScope.where`: pagination and the per-emergency read stay one
query) and in Python (:meth:`AuditScope.admits`, the same rule, for callers holding records already).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, false, or_

from broker.audit.records import AuditRecord
from broker.store.tables import audit_records


@dataclass(frozen=True)
class AuditScope:
    """The records one agency's (non-oversight) auditors read."""

    agency: str
    cameras: frozenset[str]  # the agency's cameras (at its sites), by id
    mous: frozenset[str]  # the MOUs it is a party to (owner or recipient)

    @classmethod
    def of(cls, agency: str, cameras: Iterable[str], mous: Iterable[str]) -> AuditScope:
        return cls(agency, frozenset(cameras), frozenset(mous))

    def admits(self, record: AuditRecord) -> bool:
        if record.principal_agency == self.agency:
            return True
        if record.camera is not None:
            return record.camera in self.cameras
        return record.mou is not None and record.mou in self.mous

    def where(self) -> ColumnElement[bool]:
        """:meth:`admits` as a SQL condition on ``audit_records`` (SQLite and PostgreSQL alike)."""
        t = audit_records.c
        # The id lists go in as literals (literal_execute): an inventory of many thousand cameras needs no more
        # bound parameters than the drivers allow, and the values are escaped by the dialect.
        by_camera = (
            t.camera.in_(bindparam("scope_cameras", sorted(self.cameras), expanding=True, literal_execute=True))
            if self.cameras
            else false()
        )
        by_mou = (
            and_(
                t.camera.is_(None),
                t.mou.in_(bindparam("scope_mous", sorted(self.mous), expanding=True, literal_execute=True)),
            )
            if self.mous
            else false()
        )
        return or_(t.principal_agency == self.agency, by_camera, by_mou)

"""``camgate mou import``: MOU files the parties signed on paper, stored as in-force versions (issue 14).

Each file is validated against the inventory in force; one invalid file imports nothing (DocumentError with every
line). A version stored with the same text is ``unchanged``; with other text, or under a terminated MOU, the
import is refused (409) before anything is stored. Each imported file is one ``mou.import`` record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from broker.admin.mous.service import IMPORTER, MouService
from broker.audit import AuditRecord
from broker.documents.loader import parse_mou_text
from broker.documents.mou import Mou
from broker.errors import DocumentError, MouStateConflict
from broker.store.binding import Binding
from broker.store.mous import MouRepository, Revision


def import_texts(service: MouService, items: Sequence[tuple[str, bytes]], who: dict[str, Any]) -> list[dict[str, Any]]:
    """Files the parties signed on paper, stored in force (each one ``mou.import`` record). All are validated
    first: one invalid file imports nothing."""
    index = service.registry._index()
    parsed: list[tuple[str, bytes, Mou]] = []
    issues = []
    for name, raw in items:
        doc, more = parse_mou_text(raw, name, index)
        issues += more
        if doc is not None:
            parsed.append((name, raw, doc))
    if issues:
        raise DocumentError(issues)
    for name, raw, doc in parsed:  # every refusal before anything is stored: all or nothing
        _import_one(service, name, raw, doc, who, dry_run=True)
    return [_import_one(service, name, raw, doc, who) for name, raw, doc in parsed]


def _import_one(
    service: MouService, name: str, raw: bytes, doc: Mou, who: dict[str, Any], *, dry_run: bool = False
) -> dict[str, Any]:
    sha = hashlib.sha256(raw).hexdigest()
    facts = service.repo.get(doc.mou)
    result = {"mou": doc.mou, "version": doc.version, "sha256": sha, "file": name}
    if facts is not None and facts.revisions:
        state = service.registry.state_of(facts)
        same = next((v for v in state.versions if v.version == doc.version), None)
        if same is not None and same.current.sha256 == sha:
            return result | {"outcome": "unchanged"}
        if state.terminated_at is not None:
            raise MouStateConflict(f"{name}: MOU {doc.mou!r} was terminated", state="terminated")
        if same is not None or doc.version < state.latest.version:
            raise MouStateConflict(
                f"{name}: version {doc.version} of {doc.mou!r} is stored with other text; nothing is overwritten "
                f"(give the file version {state.latest.version + 1})",
                state=same.state if same is not None else state.latest.state,
            )
    if dry_run:
        return result | {"outcome": "imported"}
    rev = Revision(
        doc.mou,
        doc.version,
        1,
        raw.decode("utf-8"),
        sha,
        name,
        IMPORTER,
        doc.parties.owner,
        service.registry.clock.now(),
        imported=True,
    )

    def bind(conn: Connection, record: AuditRecord) -> None:
        MouRepository.add_revision_in(conn, rev, Binding(record.seq, record.hash))

    details = {"mou": doc.mou, "version": doc.version, "revision": 1, "sha256": sha, "file": name}
    service.audit.append_bound("mou.import", bind, **who, mou=doc.mou, details=details)
    return result | {"outcome": "imported"}

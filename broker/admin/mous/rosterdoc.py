"""Which MOU document a roster serves (issue 14, item 5): the one in force on this replica, else the version waiting
for its start, else (store) the newest stored version, so a roster can be kept ready before the MOU takes effect."""

from __future__ import annotations

from collections.abc import Callable

from broker.admin.mous.registry import MouRegistry
from broker.documents.mou import Mou
from broker.errors import UnknownMou
from broker.inventory.catalog import LiveCatalog


def roster_document(live: LiveCatalog, registry: MouRegistry) -> Callable[[str], Mou | None]:
    def document(mou: str) -> Mou | None:
        found = live.catalog.mous.get(mou)
        if found is not None:
            return found
        upcoming = live.current.upcoming
        if upcoming is not None and mou in upcoming[1].mous:
            return upcoming[1].mous[mou]
        try:
            state = registry.state(mou)
        except UnknownMou:
            return None
        return next((v.doc for v in reversed(state.versions) if v.doc is not None), None)

    return document

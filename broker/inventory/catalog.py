"""The catalog: inventory + MOUs + compiled policy, loaded together and swapped as one immutable unit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from broker.adapterapi import SystemSpec
from broker.clock import Clock
from broker.documents import Camera, DocumentSet, Inventory, Mou, load_documents
from broker.documents.inventory import InventoryIndex
from broker.documents.warnings import DocumentWarning, MouSource, period_warnings
from broker.policy import DecisionPoint, compile_policy
from broker.policy.compile import covered_sites


def specs_of(inventory: Inventory) -> list[SystemSpec]:
    """Each camera system's inventory entry as its adapter sees it."""
    return [SystemSpec(s.id, s.adapter, s.base_url, s.settings) for s in inventory.systems]


@dataclass(frozen=True)
class Catalog:
    inventory: Inventory
    mous: dict[str, Mou]
    pdp: DecisionPoint
    documents: Mapping[str, str] = field(default_factory=dict)  # file -> SHA-256 of the bytes compiled
    digest: str = ""  # one SHA-256 over all of them (DocumentSet.digest)
    mou_sources: Mapping[str, MouSource] = field(default_factory=dict)  # mou id -> file and lines, for warnings
    zone_warnings: tuple[DocumentWarning, ...] = ()  # cameras whose zone no MOU covering their site defines

    @classmethod
    def build(cls, inventory: Inventory, mous: list[Mou], model_text: str) -> Catalog:
        return cls(inventory, {m.mou: m for m in mous}, DecisionPoint(compile_policy(inventory, mous, model_text)))

    @classmethod
    def from_documents(cls, docs: DocumentSet, model_text: str) -> Catalog:
        """Compile a validated document set (call :meth:`DocumentSet.raise_for_issues` first)."""
        assert docs.inventory is not None
        pdp = DecisionPoint(compile_policy(docs.inventory, docs.mous, model_text, docs.rosters))
        mous = {m.mou: m for m in docs.mous}
        return cls(
            docs.inventory,
            mous,
            pdp,
            dict(docs.digests),
            docs.digest,
            dict(docs.mou_sources),
            tuple(docs.zone_warnings),
        )

    def warnings(self, now: datetime) -> list[DocumentWarning]:
        """The document warnings as of ``now`` (broker/documents/warnings.py): MOUs out of force, unknown zones."""
        return period_warnings(self.mous.values(), self.mou_sources, now) + list(self.zone_warnings)

    @classmethod
    def load(cls, inventory: Path, mous: list[Path], model: Path) -> Catalog:
        """Read and validate the documents (raises DocumentError listing every problem)."""
        return cls.from_documents(load_documents(inventory, mous), model.read_text(encoding="utf-8"))

    @cached_property
    def index(self) -> InventoryIndex:
        return self.inventory.index()

    def camera(self, camera_id: str) -> Camera | None:
        return self.index.cameras.get(camera_id)

    def sites_of(self, mou: Mou) -> list[str]:
        return covered_sites(mou, self.index.sites_by_owner)

    @cached_property
    def _party_sites(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for mou in self.mous.values():
            for agency in (mou.parties.owner, *mou.parties.recipients):
                out.setdefault(agency, set()).update(self.sites_of(mou))
        return {a: frozenset(s) for a, s in out.items()}

    def visible_sites(self, agency: str) -> frozenset[str]:
        """Sites covered by an MOU the agency is a party to (owner or recipient)."""
        return self._party_sites.get(agency, frozenset())

    def visible_mous(self, agency: str) -> list[Mou]:
        return [m for m in self.mous.values() if agency == m.parties.owner or agency in m.parties.recipients]

    def system_specs(self) -> list[SystemSpec]:
        return specs_of(self.inventory)

    def buildings(self, site: str) -> frozenset[str]:
        return frozenset(c.building for c in self.inventory.cameras if c.site == site and c.building)


@dataclass(frozen=True)
class Served:
    """A catalog and the document generation it belongs to; ``upcoming``: the catalog that replaces it at an
    instant (an approved MOU version waiting for its start, issue 14)."""

    catalog: Catalog
    generation: int
    upcoming: tuple[datetime, Catalog] | None = None


class LiveCatalog:
    """The catalog in force. A reload replaces :attr:`current` whole, in one attribute write, so a request
    that reads it once decides entirely with the old documents or entirely with the new ones.

    With a clock, a catalog installed with an ``upcoming`` one is replaced by it at that instant exactly, at the
    first read from then on (no reload, the same on every replica); :attr:`promoted` counts those swaps.
    """

    def __init__(self, catalog: Catalog, generation: int = 0, clock: Clock | None = None) -> None:
        self.current = Served(catalog, generation)
        self.clock = clock
        self.promoted = 0

    @property
    def catalog(self) -> Catalog:
        served = self.current
        if served.upcoming is not None and self.clock is not None and self.clock.now() >= served.upcoming[0]:
            served = Served(served.upcoming[1], served.generation)
            self.current = served
            self.promoted += 1
        return served.catalog

    @property
    def generation(self) -> int:
        return self.current.generation

    @property
    def upcoming_at(self) -> datetime | None:
        return self.current.upcoming[0] if self.current.upcoming is not None else None

    def install(self, catalog: Catalog, generation: int, upcoming: tuple[datetime, Catalog] | None = None) -> None:
        self.current = Served(catalog, generation, upcoming)

"""The catalog: inventory + MOUs + compiled policy, loaded together and swapped as one immutable unit."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from broker.adapterapi import SystemSpec
from broker.documents import Camera, Inventory, Mou, load_inventory, load_mous
from broker.documents.inventory import InventoryIndex
from broker.policy import DecisionPoint, compile_policy
from broker.policy.compile import covered_sites


@dataclass(frozen=True)
class Catalog:
    inventory: Inventory
    mous: dict[str, Mou]
    pdp: DecisionPoint

    @classmethod
    def build(cls, inventory: Inventory, mous: list[Mou], model_text: str) -> Catalog:
        return cls(inventory, {m.mou: m for m in mous}, DecisionPoint(compile_policy(inventory, mous, model_text)))

    @classmethod
    def load(cls, inventory: Path, mous: list[Path], model: Path) -> Catalog:
        """Read and validate the documents (raises DocumentError listing every problem)."""
        inv = load_inventory(inventory)
        return cls.build(inv, load_mous(mous, inv), model.read_text(encoding="utf-8"))

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
        return [SystemSpec(s.id, s.adapter, s.base_url, s.settings) for s in self.inventory.systems]

    def buildings(self, site: str) -> frozenset[str]:
        return frozenset(c.building for c in self.inventory.cameras if c.site == site and c.building)

"""Evidence folders of body-worn and in-car systems (Digital Ally, Panasonic Arbitrator, Axon, generic)."""

from __future__ import annotations

from adapters.evidence.adapter import EvidenceAdapter
from adapters.evidence.settings import EvidenceSettings

__all__ = ["EvidenceAdapter", "EvidenceSettings"]

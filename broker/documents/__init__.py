"""Inventory and MOU documents: pydantic models, YAML with line numbers, and their validation."""

from broker.documents.inventory import Camera, Inventory, Site, System
from broker.documents.loader import (
    load_inventory,
    load_mous,
    mou_files,
    validate_inventory_files,
    validate_mou_files,
)
from broker.documents.mou import Grant, Mou

__all__ = [
    "Camera",
    "Grant",
    "Inventory",
    "Mou",
    "Site",
    "System",
    "load_inventory",
    "load_mous",
    "mou_files",
    "validate_inventory_files",
    "validate_mou_files",
]

"""Inventory and MOU documents: pydantic models, YAML with line numbers, and their validation."""

from broker.documents.inventory import Camera, Inventory, Site, System
from broker.documents.loader import (
    DocumentSet,
    load_documents,
    load_inventory,
    load_mous,
    mou_files,
    read_documents,
    validate_inventory_files,
    validate_mou_files,
)
from broker.documents.mou import Grant, Mou

__all__ = [
    "Camera",
    "DocumentSet",
    "Grant",
    "Inventory",
    "Mou",
    "Site",
    "System",
    "load_documents",
    "load_inventory",
    "load_mous",
    "mou_files",
    "read_documents",
    "validate_inventory_files",
    "validate_mou_files",
]

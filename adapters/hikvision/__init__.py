"""Hikvision IP cameras and NVRs through ISAPI (see :mod:`adapters.hikvision.adapter`)."""

from __future__ import annotations

from adapters.hikvision.adapter import HikvisionAdapter
from adapters.hikvision.settings import HikvisionSettings

__all__ = ["HikvisionAdapter", "HikvisionSettings"]

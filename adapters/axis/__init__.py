"""Axis network cameras and video encoders through VAPIX (see :mod:`adapters.axis.adapter`)."""

from __future__ import annotations

from adapters.axis.adapter import AxisAdapter
from adapters.axis.settings import AxisSettings

__all__ = ["AxisAdapter", "AxisSettings"]

"""Building the adapter of each camera system from its inventory entry.

``spec.adapter`` names an entry of :data:`adapters.ADAPTERS` (``"module:attribute"``), imported lazily.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterable, Iterator

from broker.adapterapi import AdapterConfigError, CameraSystemAdapter, SystemSpec

Loader = Callable[[SystemSpec], CameraSystemAdapter]


def _registry() -> dict[str, str]:
    from adapters import ADAPTERS

    return ADAPTERS


def load_adapter(spec: SystemSpec) -> CameraSystemAdapter:
    """A new adapter for ``spec``; :class:`AdapterConfigError` names the system and the problem."""
    registry = _registry()
    target = registry.get(spec.adapter)
    if target is None:
        known = ", ".join(sorted(registry)) or "(none)"
        raise AdapterConfigError(f"system {spec.id!r}: unknown adapter {spec.adapter!r}; known adapters: {known}")
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise AdapterConfigError(
            f"system {spec.id!r}: adapter {spec.adapter!r} ({target}) failed to load: {exc}"
        ) from exc
    try:
        adapter = factory(spec)
    except AdapterConfigError as exc:
        raise AdapterConfigError(f"system {spec.id!r}: {exc}") from exc
    if not isinstance(adapter, CameraSystemAdapter):
        raise AdapterConfigError(f"system {spec.id!r}: {target} does not implement CameraSystemAdapter")
    return adapter


class AdapterPool:
    """One adapter per camera system, built eagerly so bad settings fail at start-up."""

    def __init__(self, specs: Iterable[SystemSpec], *, loader: Loader = load_adapter) -> None:
        self._adapters: dict[str, CameraSystemAdapter] = {}
        try:
            for spec in specs:
                if spec.id in self._adapters:
                    raise AdapterConfigError(f"system {spec.id!r}: duplicate system id")
                self._adapters[spec.id] = loader(spec)
        except BaseException:
            self._discard()
            raise

    def get(self, system_id: str) -> CameraSystemAdapter:
        """The adapter of ``system_id``; ``KeyError`` for a system not in the inventory."""
        try:
            return self._adapters[system_id]
        except KeyError:
            raise KeyError(f"no adapter for camera system {system_id!r}") from None

    def __contains__(self, system_id: object) -> bool:
        return system_id in self._adapters

    def __iter__(self) -> Iterator[str]:
        return iter(self._adapters)

    def __len__(self) -> int:
        return len(self._adapters)

    async def aclose(self) -> None:
        """Close every adapter (idempotent); the first failure is re-raised after all were tried."""
        adapters, self._adapters = list(self._adapters.values()), {}
        results = await asyncio.gather(*(a.aclose() for a in adapters), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _discard(self) -> None:
        # Construction failed part-way: adapters built so far hold no I/O yet, so dropping them is enough.
        self._adapters.clear()

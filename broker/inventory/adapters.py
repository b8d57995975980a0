"""Building the adapter of each camera system from its inventory entry.

``spec.adapter`` names an entry of :data:`adapters.ADAPTERS` (``"module:attribute"``), imported lazily. An
adapter serves HLS itself (:class:`CameraSystemAdapter`) or says where RTSP streams are
(:class:`RtspCameraSystem`); the app factory's loader wraps the latter in the broker's RTSP gateway
(``broker/gateway/``), so the pool only ever holds :class:`CameraSystemAdapter`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from broker.adapterapi import AdapterConfigError, CameraSystemAdapter, RtspCameraSystem, SystemSpec

Loader = Callable[[SystemSpec], CameraSystemAdapter]
# Keys of a system entry that are the broker's, never the adapter's: the RTSP gateway's block (broker/gateway/).
BROKER_KEYS = frozenset({"gateway"})


def _registry() -> dict[str, str]:
    from adapters import ADAPTERS

    return ADAPTERS


def build_adapter(spec: SystemSpec) -> object:
    """A new adapter object for ``spec``, of whatever kind its factory makes (inventory sync asks it for
    :class:`~broker.adapterapi.Discoverable`); :class:`AdapterConfigError` names the system and the problem."""
    registry = _registry()
    target = registry.get(spec.adapter)
    if target is None:
        known = ", ".join(sorted(registry)) or "(none)"
        raise AdapterConfigError(
            f"unknown adapter {spec.adapter!r}; known adapters: {known}", setting="adapter", system=spec.id
        )
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise AdapterConfigError(
            f"adapter {spec.adapter!r} ({target}) failed to load: {exc}", setting="adapter", system=spec.id
        ) from exc
    if BROKER_KEYS & spec.settings.keys():
        spec = replace(spec, settings={k: v for k, v in spec.settings.items() if k not in BROKER_KEYS})
    try:
        adapter: object = factory(spec)
    except AdapterConfigError as exc:
        raise exc.in_system(spec.id) from exc
    return adapter


def load_adapter(spec: SystemSpec) -> CameraSystemAdapter | RtspCameraSystem:
    """A new adapter for ``spec`` that serves HLS or says where RTSP streams are; :class:`AdapterConfigError`
    names the system and the problem."""
    adapter = build_adapter(spec)
    if not isinstance(adapter, CameraSystemAdapter | RtspCameraSystem):
        target = _registry()[spec.adapter]
        raise AdapterConfigError(
            f"{target} implements neither CameraSystemAdapter nor RtspCameraSystem", setting="adapter", system=spec.id
        )
    return adapter


def load_hls_adapter(spec: SystemSpec) -> CameraSystemAdapter:
    """:func:`load_adapter` for a pool without the RTSP gateway: an RTSP system is refused, saying why."""
    adapter = load_adapter(spec)
    if not isinstance(adapter, CameraSystemAdapter):
        raise AdapterConfigError("an RTSP system needs the broker's RTSP gateway", setting="adapter", system=spec.id)
    return adapter


class SystemsRefused(AdapterConfigError):
    """Every system whose settings were refused, each its own :class:`AdapterConfigError` (``errors``); the
    message is the first one's."""

    def __init__(self, errors: list[AdapterConfigError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.detail + more, setting=first.setting, system=first.system)
        self.errors = errors


def each_error(exc: AdapterConfigError) -> list[AdapterConfigError]:
    """The errors one refusal stands for."""
    return list(exc.errors) if isinstance(exc, SystemsRefused) else [exc]


class AdapterPool:
    """One adapter per camera system, built eagerly so bad settings fail at start-up (or refuse a reload)."""

    def __init__(self, specs: Iterable[SystemSpec], *, loader: Loader = load_hls_adapter) -> None:
        self._loader = loader
        self._adapters: dict[str, CameraSystemAdapter] = {}
        self._adapters = self.prepare(specs)

    def prepare(self, specs: Iterable[SystemSpec]) -> dict[str, CameraSystemAdapter]:
        """The adapters for ``specs``: a system whose entry is unchanged keeps its adapter, a new or changed
        one gets a new adapter. Nothing is installed: bad settings raise :class:`AdapterConfigError` and
        leave the pool as it was."""
        adapters: dict[str, CameraSystemAdapter] = {}
        refused: list[AdapterConfigError] = []
        for spec in specs:
            if spec.id in adapters:
                refused.append(AdapterConfigError("duplicate system id", system=spec.id))
                continue
            current = self._adapters.get(spec.id)
            try:
                adapters[spec.id] = current if current is not None and current.spec == spec else self._loader(spec)
            except AdapterConfigError as exc:
                refused.append(exc)
        if refused:
            raise SystemsRefused(refused)
        return adapters  # adapters built so far hold no I/O yet: dropping them on failure is enough

    def install(self, adapters: dict[str, CameraSystemAdapter]) -> list[CameraSystemAdapter]:
        """Swap in a prepared set whole; returns the adapters no longer used, for the caller to close once
        the requests already using them are done."""
        kept = {id(a) for a in adapters.values()}
        retired = [a for a in self._adapters.values() if id(a) not in kept]
        self._adapters = dict(adapters)
        return retired

    def get(self, system_id: str) -> CameraSystemAdapter:
        """The adapter of ``system_id``; ``KeyError`` for a system not in the inventory."""
        try:
            return self._adapters[system_id]
        except KeyError:
            raise KeyError(f"no adapter for camera system {system_id!r}") from None

    def __contains__(self, system_id: object) -> bool:
        return system_id in self._adapters

    def adapters(self) -> list[CameraSystemAdapter]:
        """The adapters in service now."""
        return list(self._adapters.values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._adapters)

    def __len__(self) -> int:
        return len(self._adapters)

    async def aclose(self) -> None:
        """Close every adapter (idempotent); the first failure is re-raised after all were tried."""
        adapters, self._adapters = list(self._adapters.values()), {}
        await close_adapters(adapters)


async def close_adapters(adapters: Iterable[CameraSystemAdapter]) -> None:
    """Close each adapter; the first failure is re-raised after all were tried."""
    results = await asyncio.gather(*(a.aclose() for a in adapters), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result

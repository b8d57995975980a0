"""Asking each camera system for its cameras (:class:`~broker.adapterapi.Discoverable`), for sync and health.

Every system is asked at once, each with its own time limit, through a fresh adapter that is closed after.
What went wrong is kept per system as a short message for operators, never with a secret in it: upstream
secrets come from the environment variables and files the system's settings name (``*_env``, ``*_file``,
:func:`~broker.adapterapi.read_secret`), so those values are known here and scrubbed from every message, and
so is any userinfo in a URL (RFC 3986 §3.2.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.adapterapi import AdapterConfigError, AdapterError, AuthFailed, Discoverable, DiscoveredCamera, SystemSpec
from broker.inventory.adapters import build_adapter

log = logging.getLogger("camgate.sync")
MAX_ERROR = 300  # characters of an error message kept
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
SECRET_KEYS = ("password", "secret", "token", "key", "passphrase")


@dataclass(frozen=True)
class SystemResult:
    """One system asked (or not: ``discoverable`` False when its adapter cannot list cameras)."""

    system: str
    adapter: str
    discoverable: bool
    cameras: tuple[DiscoveredCamera, ...] | None  # None: not listed (not discoverable, or failed)
    reachable: bool | None = None  # None: not known
    authentication_ok: bool | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def listed(self) -> bool:
        return self.cameras is not None

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "adapter": self.adapter, "discoverable": self.discoverable,
                "discovered": None if self.cameras is None else len(self.cameras), "reachable": self.reachable,
                "authentication_ok": self.authentication_ok, "error": self.error,
                "seconds": round(self.seconds, 3)}  # fmt: skip


def secret_values(settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> set[str]:
    """Every secret a system's settings lead to: the values of the variables and files named by ``*_env`` and
    ``*_file`` keys (at any depth), and any value kept under a secret-sounding key by mistake."""
    env = os.environ if environ is None else environ
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, str(k).lower())
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and value:
            if key.endswith("_env") and env.get(value):
                found.add(env[value])
            elif key.endswith("_file"):
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    text = Path(value).read_text(encoding="utf-8")[:4096]
                    found.update(t for t in (text, text.rstrip("\r\n"), text.strip()) if t)
            elif any(word in key for word in SECRET_KEYS):
                found.add(value)

    walk(settings)
    return {s for s in found if len(s) >= 3}


def scrub(message: str, secrets: Iterable[str]) -> str:
    """``message`` without the secrets and URL userinfo, on one line, at most :data:`MAX_ERROR` characters."""
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, "***")
    message = _USERINFO.sub(r"\1***@", message)
    message = " ".join(message.split())
    return message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 1] + "…"


def _describe(exc: BaseException, timeout: float) -> tuple[bool | None, bool | None, str]:
    """(reachable, authentication ok, message) of a failed listing."""
    if isinstance(exc, AuthFailed):
        return True, False, f"the system refused the configured credentials: {exc} (check its password_env/_file)"
    if isinstance(exc, TimeoutError):
        return False, None, f"no answer within {timeout:g} s"
    if isinstance(exc, AdapterError) and exc.timeout:
        return False, None, f"no answer in time: {exc}"
    if isinstance(exc, AdapterError):
        if exc.status is not None:
            return True, None, f"the system answered badly (HTTP {exc.status}): {exc}"
        return False, None, f"the system could not be reached: {exc}"
    if isinstance(exc, AdapterConfigError):
        return None, None, f"the system's settings are unusable: {exc}"
    return None, None, f"unexpected {type(exc).__name__} from the adapter: {exc}"


async def discover_one(
    spec: SystemSpec, timeout: float, builder: Callable[[SystemSpec], object] = build_adapter
) -> SystemResult:
    started = time.perf_counter()
    secrets = secret_values(spec.settings)
    adapter: object | None = None
    try:
        adapter = builder(spec)
        if not isinstance(adapter, Discoverable):
            return SystemResult(spec.id, spec.adapter, False, None)
        cameras = await asyncio.wait_for(adapter.discover(), timeout)
        return SystemResult(spec.id, spec.adapter, True, tuple(cameras), True, True,
                            seconds=time.perf_counter() - started)  # fmt: skip
    except Exception as exc:  # every failure is this system's result; the others go on
        reachable, auth_ok, message = _describe(exc, timeout)
        message = scrub(message, secrets)
        log.warning("inventory sync: system %s: %s", spec.id, message)
        return SystemResult(spec.id, spec.adapter, isinstance(adapter, Discoverable), None,
                            reachable, auth_ok, message, time.perf_counter() - started)  # fmt: skip
    finally:
        close = getattr(adapter, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception as exc:
                log.warning("inventory sync: closing the adapter of %s: %s", spec.id, scrub(str(exc), secrets))


async def discover_all(
    specs: Iterable[SystemSpec], timeout: float, builder: Callable[[SystemSpec], object] = build_adapter
) -> list[SystemResult]:
    """Every system asked at once; results in the order of ``specs``."""
    return list(await asyncio.gather(*(discover_one(s, timeout, builder) for s in specs)))

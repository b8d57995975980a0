"""Reading VAPIX ``param.cgi?action=list`` answers: one ``root.Group.Parameter=value`` line per parameter.

VAPIX Parameter management (https://developer.axis.com/vapix/network-video/parameter-management): parameters
are ``ParentGroup[.Subgroup].Parameter``, dynamic groups numbered like ``ImageSource.I0``; ``action=list``
answers ``text/plain`` lines ``root.<name>=<value>``, and a group the device does not have is answered (with
HTTP 200) by a line ``# Error: ...``. Values are strings. Anything else is a malformed answer: the error says
which line, so an operator can see what the device sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.adapterapi import AdapterError

MAX_LINES = 20_000
MAX_SOURCES = 64  # the largest Axis video encoders and multi-sensor cameras have 16
NAME = re.compile(r"^root(\.[A-Za-z0-9_]+)+$")
SOURCE_NAME = re.compile(r"^root\.ImageSource\.I(\d{1,3})\.Name$")


def parse_params(body: bytes, *, where: str) -> dict[str, str]:
    """``{"root.Brand.ProdNbr": "M3215-LVE", ...}`` from a ``param.cgi?action=list`` answer."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdapterError(f"{where}: the parameter list is not UTF-8 text (byte {exc.start})") from None
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise AdapterError(f"{where}: the parameter list has {len(lines)} lines, over {MAX_LINES}")
    params: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.startswith("# Error"):
            raise AdapterError(f"{where}: the device answered {_show(line.strip())}")
        name, sep, value = line.partition("=")
        if not sep or not NAME.match(name):
            raise AdapterError(f"{where}: line {number} is not 'root.Group.Parameter=value': {_show(line)}")
        params[name] = value
    return params


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    brand: str
    model: str  # Brand.ProdShortName, e.g. "AXIS M3215-LVE"
    product: str  # Brand.ProdFullName, e.g. "AXIS M3215-LVE Dome Camera"
    sources: dict[int, str]  # VAPIX camera number (1-based) -> ImageSource name

    def details(self, camera: int) -> dict[str, str]:
        out = {"vendor": "Axis", "camera": str(camera), "model": self.model, "product": self.product}
        if len(self.sources) > 1:
            out["sources"] = str(len(self.sources))
        return {k: v for k, v in out.items() if v}


def device_info(params: dict[str, str], *, where: str) -> DeviceInfo:
    """Brand and image sources from the ``Brand`` and ``ImageSource`` groups.

    ``ImageSource.NbrOfSources`` says how many video sources there are; source ``I<n>`` is VAPIX ``camera=<n+1>``
    (image.cgi and ``axis-media/media.amp`` number cameras from 1). A device that does not say is asked again
    by the numbered groups it lists."""
    count = params.get("root.ImageSource.NbrOfSources")
    listed = sorted(int(m.group(1)) for name in params if (m := SOURCE_NAME.match(name)))
    if count is not None:
        if not count.isdigit() or not 1 <= int(count) <= MAX_SOURCES:
            raise AdapterError(
                f"{where}: root.ImageSource.NbrOfSources is {_show(count)}, not a number of sources (1-{MAX_SOURCES})"
            )
        numbers = range(int(count))
    elif listed:
        if listed[-1] >= MAX_SOURCES:
            raise AdapterError(f"{where}: image source I{listed[-1]} is beyond {MAX_SOURCES} sources")
        numbers = range(listed[-1] + 1)
    else:
        raise AdapterError(f"{where}: the device lists no image sources (root.ImageSource.NbrOfSources)")
    sources = {n + 1: _clean(params.get(f"root.ImageSource.I{n}.Name", "")) or f"Camera {n + 1}" for n in numbers}
    return DeviceInfo(
        brand=_clean(params.get("root.Brand.Brand", "")) or "AXIS",
        model=_clean(params.get("root.Brand.ProdShortName", "") or params.get("root.Brand.ProdNbr", "")),
        product=_clean(params.get("root.Brand.ProdFullName", "")),
        sources=sources,
    )


def _clean(value: str) -> str:
    """A device-provided label made printable and bounded (it ends up in the inventory diff)."""
    return "".join(c if c.isprintable() else " " for c in value).strip()[:200]


def _show(text: str) -> str:
    return repr(text[:120] + ("…" if len(text) > 120 else ""))

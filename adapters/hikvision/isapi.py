"""Reading Hikvision ISAPI XML: ``StreamingChannelList``, ``StreamingChannel``, ``DeviceInfo``, ``ResponseStatus``.

ISAPI bodies are XML in the namespace ``http://www.hikvision.com/ver20/XMLSchema`` (``ver10`` on older firmware,
``http://www.isapi.org/ver20/XMLSchema`` on newer); a ``StreamingChannel`` has ``id`` (channel number x 100 +
stream type: 1 main, 2 sub, 3 third, so ``101`` is channel 1's main stream), ``channelName``, ``enabled`` and a
``Video`` block (``videoCodecType``, ``videoResolutionWidth``/``Height``). Errors are a ``ResponseStatus`` with
``statusCode``, ``statusString`` and ``subStatusCode``. (Hikvision ISAPI developer guide, Streaming and System
sections, https://tpp.hikvision.com/Wiki/ISAPI/; the RTSP URL rule at
http://enpinfo.hikvision.com/unzip/20201110210551_77443_doc/GUID-515FF2B5-5E01-4F03-8B81-4CA5BD621965.html.)

Upstream XML is hostile until parsed: it is size-capped before parsing (``max_response_bytes``) and parsed by
defusedxml with ``forbid_dtd=True``, so a document with any DTD is refused outright: no entity expansion
("billion laughs"), no external entities or DTD fetches.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from broker.adapterapi import AdapterError

NAMESPACES = frozenset(
    {
        "http://www.hikvision.com/ver20/XMLSchema",
        "http://www.hikvision.com/ver10/XMLSchema",
        "http://www.isapi.org/ver20/XMLSchema",
    }
)
MAX_CHANNELS = 1024


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def parse(body: bytes, *, root: str, where: str) -> ET.Element:
    """The document element, which must be ``<root>`` in an ISAPI namespace."""
    try:
        element = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise AdapterError(f"{where}: XML refused: it declares a DTD or entities ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise AdapterError(f"{where}: malformed XML: {exc}") from None
    ns, local = _split(element.tag)
    if local != root:
        raise AdapterError(f"{where}: expected an ISAPI <{root}> document, got <{local[:60]}>")
    if ns not in NAMESPACES:
        raise AdapterError(f"{where}: <{root}> in XML namespace {ns[:100]!r}, not an ISAPI namespace")
    return element


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _split(c.tag)[1] == name), None)


def _text(element: ET.Element | None, name: str) -> str | None:
    child = None if element is None else _child(element, name)
    if child is None or child.text is None:
        return None
    return "".join(c if c.isprintable() else " " for c in child.text).strip()[:200]


@dataclass(frozen=True, slots=True)
class Channel:
    id: int  # channel x 100 + stream type
    name: str
    enabled: bool
    codec: str | None
    resolution: str | None

    @property
    def number(self) -> int:
        return self.id // 100

    @property
    def is_main(self) -> bool:
        return self.id % 100 == 1

    def details(self) -> dict[str, str]:
        out = {"vendor": "Hikvision", "channel": str(self.number), "stream": str(self.id)}
        out |= {k: v for k, v in (("codec", self.codec), ("resolution", self.resolution)) if v}
        return out


def channel(element: ET.Element, *, where: str) -> Channel:
    raw_id = _text(element, "id") or ""
    if not (raw_id.isascii() and raw_id.isdigit() and 3 <= len(raw_id) <= 6 and 1 <= int(raw_id) % 100 <= 3):
        raise AdapterError(f"{where}: StreamingChannel id {raw_id[:40]!r} is not channel x 100 + stream (1-3)")
    video = _child(element, "Video")
    width, height = _text(video, "videoResolutionWidth"), _text(video, "videoResolutionHeight")
    number = int(raw_id) // 100
    return Channel(
        id=int(raw_id),
        name=_text(element, "channelName") or f"Channel {number}",
        enabled=(_text(element, "enabled") or "true").lower() == "true",
        codec=_text(video, "videoCodecType"),
        resolution=f"{width}x{height}" if width and height else None,
    )


def streaming_channels(body: bytes, *, where: str) -> tuple[Channel, ...]:
    """Every ``StreamingChannel`` of a ``StreamingChannelList``, in document order."""
    root = parse(body, root="StreamingChannelList", where=where)
    items = [c for c in root if _split(c.tag)[1] == "StreamingChannel"]
    if len(items) > MAX_CHANNELS:
        raise AdapterError(f"{where}: {len(items)} streaming channels, over {MAX_CHANNELS}")
    return tuple(channel(item, where=f"{where}: StreamingChannel {i + 1}") for i, item in enumerate(items))


def device_model(body: bytes, *, where: str) -> dict[str, str]:
    """``model`` and ``deviceType`` of ``/ISAPI/System/deviceInfo`` (those present)."""
    root = parse(body, root="DeviceInfo", where=where)
    return {k: v for k in ("model", "deviceType") if (v := _text(root, k))}


def explain(body: bytes) -> str | None:
    """``statusString (subStatusCode)`` of a ``ResponseStatus`` error body, if it is one."""
    try:
        root = parse(body, root="ResponseStatus", where="")
    except AdapterError:
        return None
    said = _text(root, "statusString")
    sub = _text(root, "subStatusCode")
    return f"{said} ({sub})" if said and sub else said or sub

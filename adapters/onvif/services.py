"""Which ONVIF services a device offers, and where: GetServices, or GetCapabilities on older devices.

ONVIF Core §8.1.2 ("Capability exchange"): GetServices lists each service by namespace with its XAddr (access
class PRE_AUTH); GetCapabilities is the legacy form (Core annex "Capability List of GetCapabilities"), whose
``Media/XAddr`` and ``Extension/{Search,Replay,Recording}/XAddr`` say the same. GetServices is asked first; a
device that answers it with a fault (typically ``ter:ActionNotSupported``) is asked GetCapabilities.

Profile S needs the Media service (``ver10/media/wsdl``); Profile G recordings need the Recording Search
(``ver10/search/wsdl``) and Replay (``ver10/replay/wsdl``) services. Every address is rebased onto the device's
origin (:meth:`adapters.onvif.uris.DeviceUris.service_url`).
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.onvif.client import SoapClient, SoapFaultError
from adapters.onvif.soapxml import Node, text_el
from adapters.onvif.uris import DeviceUris

MEDIA = "http://www.onvif.org/ver10/media/wsdl"
SEARCH = "http://www.onvif.org/ver10/search/wsdl"
REPLAY = "http://www.onvif.org/ver10/replay/wsdl"
RECORDING = "http://www.onvif.org/ver10/recording/wsdl"


@dataclass(frozen=True, slots=True)
class Services:
    media: str | None = None
    search: str | None = None
    replay: str | None = None
    recording: str | None = None
    source: str = "GetServices"  # which operation told us

    @property
    def profile_g(self) -> bool:
        """Recordings can be found and replayed (Recording Search and Replay services both offered)."""
        return self.search is not None and self.replay is not None

    def names(self) -> str:
        offered = [n for n in ("media", "search", "replay", "recording") if getattr(self, n) is not None]
        return ", ".join(offered) or "none"


async def find_services(client: SoapClient, uris: DeviceUris) -> Services:
    try:
        answer = await client.call(uris.device_url, "tds:GetServices", text_el("tds:IncludeCapability", "false"))
    except SoapFaultError:
        answer = await client.call(uris.device_url, "tds:GetCapabilities", text_el("tds:Category", "All"))
        return _from_capabilities(answer, uris)
    return _from_services(answer, uris)


def _from_services(answer: Node, uris: DeviceUris) -> Services:
    found: dict[str, str] = {}
    for service in answer.iter_children("Service"):
        namespace, xaddr = service.path_text("Namespace"), service.path_text("XAddr")
        if namespace and xaddr and namespace not in found:
            found[namespace] = uris.service_url(xaddr)
    return Services(found.get(MEDIA), found.get(SEARCH), found.get(REPLAY), found.get(RECORDING))


def _from_capabilities(answer: Node, uris: DeviceUris) -> Services:
    capabilities = answer.child("Capabilities")

    def xaddr(*path: str) -> str | None:
        text = capabilities.path_text(*path, "XAddr") if capabilities is not None else None
        return uris.service_url(text) if text else None

    return Services(
        media=xaddr("Media"),
        search=xaddr("Extension", "Search"),
        replay=xaddr("Extension", "Replay"),
        recording=xaddr("Extension", "Recording"),
        source="GetCapabilities",
    )

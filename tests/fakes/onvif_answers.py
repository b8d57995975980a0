"""The answers of the fake ONVIF device, shaped as ONVIF's WSDLs and onvif.xsd define them.

Element names, order and namespaces follow ver10/device/wsdl (tds), ver10/media/wsdl (trt), ver10/search/wsdl
(tse), ver10/replay/wsdl (trp) and ver10/schema (tt) as shipped with the onvif-zeep package; a test checks the
device against that independent client. Faults follow ONVIF Core §5.8.2 and SOAP 1.2 Part 1 §5.4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

ENV = "http://www.w3.org/2003/05/soap-envelope"
NS = {
    "env": ENV,
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tse": "http://www.onvif.org/ver10/search/wsdl",
    "trp": "http://www.onvif.org/ver10/replay/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
}
SERVICE_PATHS = {"tds": "/onvif/device_service", "trt": "/onvif/media_service", "tse": "/onvif/search_service",
                 "trp": "/onvif/replay_service"}  # fmt: skip


@dataclass(frozen=True)
class FakeProfile:
    token: str
    name: str
    source: str | None = None  # video source token; None: a metadata-only profile
    encoding: str = "H264"
    width: int = 320
    height: int = 180
    mount: str = "/cam1"


@dataclass(frozen=True)
class FakeSource:
    token: str
    name: str


@dataclass(frozen=True)
class FakeRecording:
    token: str
    source_id: str
    name: str
    earliest: datetime
    latest: datetime
    mount: str


def t(name: str, text: object) -> str:
    value = str(text).lower() if isinstance(text, bool) else str(text)
    return f"<{name}>{escape(value)}</{name}>"


def x(name: str, *children: str, **attrs: str) -> str:
    attributes = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return f"<{name}{attributes}>{''.join(children)}</{name}>"


def xs_datetime(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(body: str) -> bytes:
    declarations = "".join(f' xmlns:{p}="{u}"' for p, u in NS.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope{declarations}><env:Body>{body}</env:Body></env:Envelope>'.encode()


def fault(code: str, *subcodes: str, reason: str) -> bytes:
    nested = ""
    for sub in reversed(subcodes):
        nested = x("env:Subcode", t("env:Value", sub), nested)
    code_el = x("env:Code", t("env:Value", code), nested)
    reason_el = x("env:Reason", f'<env:Text xml:lang="en">{escape(reason)}</env:Text>')
    return envelope(x("env:Fault", code_el, reason_el))


def system_date_and_time(now: datetime) -> str:
    now = now.astimezone(UTC)
    clock = x("tt:Time", t("tt:Hour", now.hour), t("tt:Minute", now.minute), t("tt:Second", now.second))
    date = x("tt:Date", t("tt:Year", now.year), t("tt:Month", now.month), t("tt:Day", now.day))
    return x("tds:GetSystemDateAndTimeResponse", x(
        "tds:SystemDateAndTime", t("tt:DateTimeType", "NTP"), t("tt:DaylightSavings", False),
        x("tt:TimeZone", t("tt:TZ", "UTC0")), x("tt:UTCDateTime", clock, date),
    ))  # fmt: skip


def services(origin: str, profile_g: bool) -> str:
    prefixes = ["tds", "trt"] + (["tse", "trp"] if profile_g else [])
    items = [
        x("tds:Service", t("tds:Namespace", NS[p]), t("tds:XAddr", origin + SERVICE_PATHS[p]),
          x("tds:Version", t("tt:Major", 2), t("tt:Minor", 60)))
        for p in prefixes
    ]  # fmt: skip
    return x("tds:GetServicesResponse", *items)


def capabilities(origin: str, categories: set[str], profile_g: bool) -> str:
    every = not categories or "All" in categories
    parts = []
    if every or "Device" in categories:
        parts.append(x("tt:Device", t("tt:XAddr", origin + SERVICE_PATHS["tds"])))
    if every or "Media" in categories:
        streaming = x("tt:StreamingCapabilities", t("tt:RTPMulticast", False), t("tt:RTP_TCP", True),
                      t("tt:RTP_RTSP_TCP", True))  # fmt: skip
        parts.append(x("tt:Media", t("tt:XAddr", origin + SERVICE_PATHS["trt"]), streaming))
    if every and profile_g:
        search = x("tt:Search", t("tt:XAddr", origin + SERVICE_PATHS["tse"]), t("tt:MetadataSearch", False))
        parts.append(x("tt:Extension", search, x("tt:Replay", t("tt:XAddr", origin + SERVICE_PATHS["trp"]))))
    return x("tds:GetCapabilitiesResponse", x("tds:Capabilities", *parts))


def device_information() -> str:
    return x("tds:GetDeviceInformationResponse", t("tds:Manufacturer", "Camgate Fakes"),
             t("tds:Model", "FakeNVR-2"), t("tds:FirmwareVersion", "1.0.0"), t("tds:SerialNumber", "FAKE0001"),
             t("tds:HardwareId", "fake-hw"))  # fmt: skip


def _profile(p: FakeProfile, sources: dict[str, FakeSource]) -> str:
    parts = [t("tt:Name", p.name)]
    if p.source is not None:
        parts.append(x("tt:VideoSourceConfiguration", t("tt:Name", sources[p.source].name), t("tt:UseCount", 1),
                       t("tt:SourceToken", p.source), x("tt:Bounds", x="0", y="0", width=str(p.width),
                       height=str(p.height)), token=f"VSC_{p.source}"))  # fmt: skip
        multicast = x("tt:Multicast", x("tt:Address", t("tt:Type", "IPv4"), t("tt:IPv4Address", "0.0.0.0")),
                      t("tt:Port", 0), t("tt:TTL", 1), t("tt:AutoStart", False))  # fmt: skip
        parts.append(x("tt:VideoEncoderConfiguration", t("tt:Name", f"{p.encoding} {p.width}x{p.height}"),
                       t("tt:UseCount", 1), t("tt:Encoding", p.encoding),
                       x("tt:Resolution", t("tt:Width", p.width), t("tt:Height", p.height)), t("tt:Quality", 5),
                       multicast, t("tt:SessionTimeout", "PT60S"), token=f"VEC_{p.token}"))  # fmt: skip
    return x("trt:Profiles", *parts, token=p.token, fixed="true")


def profiles(items: list[FakeProfile], sources: dict[str, FakeSource]) -> str:
    return x("trt:GetProfilesResponse", *(_profile(p, sources) for p in items))


def media_uri(operation: str, uri: str) -> str:
    return x(f"trt:{operation}Response", x("trt:MediaUri", t("tt:Uri", uri), t("tt:InvalidAfterConnect", False),
             t("tt:InvalidAfterReboot", False), t("tt:Timeout", "PT0S")))  # fmt: skip


def search_token(token: str) -> str:
    return x("tse:FindRecordingsResponse", t("tse:SearchToken", token))


def _recording(r: FakeRecording) -> str:
    source = x("tt:Source", t("tt:SourceId", r.source_id), t("tt:Name", r.name), t("tt:Location", "school"),
               t("tt:Description", "continuous"), t("tt:Address", "urn:fake"))  # fmt: skip
    track = x("tt:Track", t("tt:TrackToken", "VIDEO001"), t("tt:TrackType", "Video"), t("tt:Description", "video"),
              t("tt:DataFrom", xs_datetime(r.earliest)), t("tt:DataTo", xs_datetime(r.latest)))  # fmt: skip
    return x("tt:RecordingInformation", t("tt:RecordingToken", r.token), source,
             t("tt:EarliestRecording", xs_datetime(r.earliest)), t("tt:LatestRecording", xs_datetime(r.latest)),
             t("tt:Content", "continuous"), track, t("tt:RecordingStatus", "Recording"))  # fmt: skip


def search_results(state: str, items: list[FakeRecording]) -> str:
    return x("tse:GetRecordingSearchResultsResponse",
             x("tse:ResultList", t("tt:SearchState", state), *map(_recording, items)))  # fmt: skip


def end_search(endpoint: datetime) -> str:
    return x("tse:EndSearchResponse", t("tse:Endpoint", xs_datetime(endpoint)))


def replay_uri(uri: str) -> str:
    return x("trp:GetReplayUriResponse", t("trp:Uri", uri))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><env:Envelope xmlns:env="' + ENV.encode() + b'">'
    b"<env:Body><x>&lol3;</x></env:Body></env:Envelope>"
)

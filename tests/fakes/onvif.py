"""A fake ONVIF device (an NVR with two video sources) speaking SOAP 1.2 over real HTTP on 127.0.0.1.

    jpegs = build_onvif_snapshots(tmp_dir)                     # a real JPEG per video source, made by ffmpeg
    with FakeOnvifDevice(rtsp_port=cam.port, jpegs=jpegs, username="camgate", password="pw") as device:
        device.base_url                    # http://127.0.0.1:PORT/ (the device service: /onvif/device_service)
        device.expected_cameras            # [(profile token, name)] the adapter should list
        device.calls["GetStreamUri"]       # operations answered (after authentication)
        device.auth_failures, device.last_auth_failure   # refused UsernameTokens and why
        device.set_cameras([("Profile_1", "Front door"), ("Profile_3", "Library")])   # an NVR's channels changed

Services: device (GetSystemDateAndTime, GetServices, GetCapabilities, GetDeviceInformation), media (GetProfiles,
GetStreamUri, GetSnapshotUri) and, with ``profile_g``, search (FindRecordings, GetRecordingSearchResults,
EndSearch) and replay (GetReplayUri). Stream and replay URIs point at a FakeRtspCamera's mounts on
``rtsp_port`` (``/cam1``, ``/cam2``, ``/replay1``); snapshots are served at ``/onvif/snapshot/<source>.jpg``
behind HTTP digest (tests.fakes.httpauth). XAddrs use the host the request was sent to (Core §8.1.2).

Authentication (tests.fakes.wsse: ONVIF Core §5.9.5, WS-UsernameToken Profile 1.0 §3.1): every operation except
the PRE_AUTH ones needs a UsernameToken with PasswordDigest, Nonce and Created; the digest must match, Created must
be within 5 minutes of the device clock (``clock_skew`` shifts it), and a nonce is accepted once (a token sent
with a PRE_AUTH operation is checked too). A refusal is HTTP 400
with ``env:Sender``/``ter:NotAuthorized`` (Core §5.9.1). ``require_http_digest`` adds RFC 7616 digest at the
HTTP level (401 challenges), as Core §5.9.1 lets newer devices require.

Switches (``reset()`` clears them): ``hang`` (operation names, or ``"*"``; ``"snapshot"`` for the JPEG) waits
``hang_seconds`` before answering; ``malformed[op] = kind`` answers ``truncated``, ``wrong_answer``, ``no_uri``,
``doctype`` (a billion-laughs DTD), ``html`` or ``not_jpeg`` (snapshot); ``legacy`` faults GetServices so
clients fall back to GetCapabilities; ``stream_host`` names another host in stream/snapshot/replay URIs;
``xaddr_host`` advertises service addresses on another host (a device behind NAT).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes import onvif_answers as A
from tests.fakes.httpauth import HttpAuthServer
from tests.fakes.onvif_answers import NS, FakeProfile, FakeRecording, FakeSource
from tests.fakes.servers import serve_in_thread
from tests.fakes.wsse import UsernameTokenServer

SOAP = "application/soap+xml; charset=utf-8"
PRE_AUTH = {"GetSystemDateAndTime", "GetServices", "GetCapabilities", "GetServiceCapabilities", "GetWsdlUrl"}
SOURCES = (FakeSource("VideoSource_1", "Front entrance"), FakeSource("VideoSource_2", "Gym hallway"))
PROFILES = (
    FakeProfile("Profile_1_main", "mainStream", "VideoSource_1", "H264", 320, 180, "/cam1"),
    FakeProfile("Profile_1_sub", "subStream", "VideoSource_1", "H264", 160, 90, "/cam1"),
    FakeProfile("Profile_1_jpeg", "mjpegStream", "VideoSource_1", "JPEG", 640, 360, "/cam1"),
    FakeProfile("Profile_2_main", "mainStream", "VideoSource_2", "H264", 320, 180, "/cam2"),
    FakeProfile("Profile_meta", "metadataOnly"),
)
RTSP_MOUNTS = ("/cam1", "/cam2", "/replay1")


def build_onvif_snapshots(directory: Path) -> dict[str, bytes]:
    """A real JPEG per video source (ffmpeg), ~0.2 s each."""
    from broker.demo.video import make_jpeg

    return {s.token: make_jpeg(directory / f"{s.token}.jpg", label=s.name).read_bytes() for s in SOURCES}


class SoapFault(Exception):
    def __init__(self, status: int, code: str, *subcodes: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.body = status, A.fault(code, *subcodes, reason=reason)


def _not_authorized(why: str) -> SoapFault:
    return SoapFault(400, "env:Sender", "ter:NotAuthorized", reason=f"Sender not Authorized ({why})")


def _invalid(*subcodes: str, reason: str) -> SoapFault:
    return SoapFault(400, "env:Sender", "ter:InvalidArgVal", *subcodes, reason=reason)


class FakeOnvifDevice:
    def __init__(self, *, rtsp_port: int, jpegs: dict[str, bytes], username: str = "camgate",
                 password: str = "camgate-password", profile_g: bool = True) -> None:  # fmt: skip
        self.rtsp_port, self.jpegs = rtsp_port, jpegs
        self.username, self.password, self.profile_g = username, password, profile_g
        self.sources = {s.token: s for s in SOURCES}
        self.profiles = list(PROFILES)
        now = datetime.now(UTC).replace(microsecond=0)
        self.recordings = [
            FakeRecording("Recording_1", "VideoSource_1", "Front entrance", now - timedelta(days=2), now, "/replay1"),
            FakeRecording("Recording_2", "VideoSource_2", "Gym hallway", now - timedelta(hours=5), now, "/replay1"),
        ]
        self.base_url = ""
        self._stack = ExitStack()
        self._stopping = False
        self._searches: dict[str, list[FakeRecording]] = {}
        self._search_ids = 0
        self.reset()

    # -- lifecycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> FakeOnvifDevice:
        app = Starlette(routes=[
            Route("/onvif/{service}", self._soap, methods=["POST"]),
            Route("/onvif/snapshot/{source}.jpg", self._snapshot, methods=["GET"]),
        ])  # fmt: skip
        self.base_url = self._stack.enter_context(serve_in_thread(app)) + "/"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping = True
        self._stack.close()

    @property
    def port(self) -> int:
        return int(self.base_url.rstrip("/").rsplit(":", 1)[1])

    def set_cameras(self, cameras: list[tuple[str, str]]) -> None:
        """From now on, one video source per camera (named ``name``) with one H.264 profile (token ``ref``) on
        ``/cam1``, as an NVR lists its channels; the first two sources keep their snapshots."""
        tokens = [f"VideoSource_{n}" for n in range(1, len(cameras) + 1)]
        self.sources = {token: FakeSource(token, name) for token, (_ref, name) in zip(tokens, cameras, strict=True)}
        self.profiles = [
            FakeProfile(ref, f"main {ref}", token) for token, (ref, _name) in zip(tokens, cameras, strict=True)
        ]

    @property
    def expected_cameras(self) -> list[tuple[str, str]]:
        return [("Profile_1_main", "Front entrance"), ("Profile_2_main", "Gym hallway")]

    def reset(self) -> None:
        self._generation = getattr(self, "_generation", 0) + 1  # ends the waits of hanging requests
        self.hang: set[str] = set()
        self.hang_seconds = 30.0
        self.malformed: dict[str, str] = {}
        self.legacy = False
        self.stream_host = "127.0.0.1"
        self.xaddr_host: str | None = None
        self.clock_skew = timedelta(0)
        self.require_http_digest = False
        self.snapshot_auth = HttpAuthServer("digest", username=self.username, password=self.password,
                                            realm="camgate-fake-onvif", algorithms=("MD5",))  # fmt: skip
        self.http_auth = HttpAuthServer("digest", username=self.username, password=self.password,
                                        realm="camgate-fake-onvif-soap", algorithms=("MD5",))  # fmt: skip
        self.calls: Counter[str] = Counter()
        self.auth_failures = 0
        self.last_auth_failure = ""
        self.tokens = UsernameTokenServer(username=self.username, password=self.password, clock=self.now)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_skew

    # -- SOAP ----------------------------------------------------------------------------------------------
    async def _soap(self, request: Request) -> Response:
        body = await request.body()
        if self.require_http_digest:
            target = request.scope["raw_path"].decode("latin-1")
            if not self.http_auth.check("POST", target, request.headers.get("authorization")):
                refusal = Response(b"", 401)
                for challenge in self.http_auth.challenges():
                    refusal.headers.append("www-authenticate", challenge)
                return refusal
        try:
            envelope = ET.fromstring(body)
            operation = self._operation(envelope, request.path_params["service"])
            name = operation.tag.rpartition("}")[2]
            if name not in PRE_AUTH or self.tokens.token(envelope) is not None:
                self._authenticate(envelope)
            if name in self.hang or "*" in self.hang:
                await self._sleep(self.hang_seconds)
            if name in self.malformed:
                return self._malformed(self.malformed[name], name)
            answer = self._answer(name, operation, request)
        except SoapFault as fault:
            return Response(fault.body, fault.status, media_type=SOAP)
        except ET.ParseError:
            fault = SoapFault(400, "env:Sender", "ter:WellFormed", reason="Well-formed Error")
            return Response(fault.body, fault.status, media_type=SOAP)
        self.calls[name] += 1
        return Response(A.envelope(answer), 200, media_type=SOAP)

    def _operation(self, envelope: ET.Element, service: str) -> ET.Element:
        body = envelope.find(f"{{{A.ENV}}}Body")
        if envelope.tag != f"{{{A.ENV}}}Envelope" or body is None or len(body) != 1:
            raise SoapFault(400, "env:Sender", "ter:TagMismatch", reason="Tag Mismatch")
        operation = body[0]
        prefix = next((p for p, path in A.SERVICE_PATHS.items() if path == f"/onvif/{service}"), None)
        if (
            prefix is None
            or not operation.tag.startswith(f"{{{NS[prefix]}}}")
            or (prefix in ("tse", "trp") and not self.profile_g)
        ):
            raise SoapFault(500, "env:Receiver", "ter:ActionNotSupported", reason="Optional Action Not Implemented")
        return operation

    def _authenticate(self, envelope: ET.Element) -> None:
        why = self.tokens.refusal(envelope)
        if why is not None:
            self.auth_failures += 1
            self.last_auth_failure = f"Sender not Authorized ({why})"
            raise _not_authorized(why)

    def _origin(self, request: Request) -> str:
        port = request.url.port
        return f"http://{self.xaddr_host or request.url.hostname}" + (f":{port}" if port else "")

    def _answer(self, name: str, op: ET.Element, request: Request) -> str:
        origin = self._origin(request)
        if name == "GetSystemDateAndTime":
            return A.system_date_and_time(self.now())
        if name == "GetServices":
            if self.legacy:
                raise SoapFault(500, "env:Receiver", "ter:ActionNotSupported", reason="Optional Action Not Implemented")
            return A.services(origin, self.profile_g)
        if name == "GetCapabilities":
            categories = {c.text or "" for c in op.findall(f"{{{NS['tds']}}}Category")}
            return A.capabilities(origin, categories, self.profile_g)
        if name == "GetDeviceInformation":
            return A.device_information()
        if name == "GetProfiles":
            return A.profiles(self.profiles, self.sources)
        if name == "GetStreamUri":
            profile = self._profile(op)
            self._check_stream_setup(op.find(f"{{{NS['trt']}}}StreamSetup"))
            if profile.source is None:
                raise SoapFault(500, "env:Receiver", "ter:Action", "ter:IncompleteConfiguration",
                                reason="The profile has no video source and encoder")  # fmt: skip
            return A.media_uri(name, f"rtsp://{self.stream_host}:{self.rtsp_port}{profile.mount}")
        if name == "GetSnapshotUri":
            profile = self._profile(op)
            if profile.source is None:
                raise SoapFault(500, "env:Receiver", "ter:Action", "ter:IncompleteConfiguration",
                                reason="The profile has no video source")  # fmt: skip
            uri = f"http://{self.stream_host}:{self.port}/onvif/snapshot/{profile.source}.jpg"
            return A.media_uri(name, uri)
        return self._profile_g(name, op)

    def _profile_g(self, name: str, op: ET.Element) -> str:
        tse, trp = f"{{{NS['tse']}}}", f"{{{NS['trp']}}}"
        if name == "FindRecordings":
            if op.find(f"{tse}Scope") is None or op.find(f"{tse}KeepAliveTime") is None:
                raise SoapFault(400, "env:Sender", "ter:InvalidArgs", reason="Scope and KeepAliveTime are required")
            self._search_ids += 1
            token = f"Search_{self._search_ids}"
            self._searches[token] = list(self.recordings)
            return A.search_token(token)
        if name in ("GetRecordingSearchResults", "EndSearch"):
            token = op.findtext(f"{tse}SearchToken") or ""
            if token not in self._searches:
                raise _invalid("ter:InvalidToken", reason="The search token is invalid")
            pending = self._searches[token]
            if name == "EndSearch":
                del self._searches[token]
                return A.end_search(self.now())
            page, self._searches[token] = pending[:1], pending[1:]  # one result per call: clients must page
            if not self._searches[token]:
                del self._searches[token]
                return A.search_results("Completed", page)
            return A.search_results("Searching", page)
        if name == "GetReplayUri":
            self._check_stream_setup(op.find(f"{trp}StreamSetup"))
            token = op.findtext(f"{trp}RecordingToken") or ""
            recording = next((r for r in self.recordings if r.token == token), None)
            if recording is None:
                raise _invalid("ter:NoRecording", reason="The recording does not exist")
            return A.replay_uri(f"rtsp://{self.stream_host}:{self.rtsp_port}{recording.mount}")
        raise SoapFault(500, "env:Receiver", "ter:ActionNotSupported", reason="Optional Action Not Implemented")

    def _profile(self, op: ET.Element) -> FakeProfile:
        token = op.findtext(f"{{{NS['trt']}}}ProfileToken") or ""
        profile = next((p for p in self.profiles if p.token == token), None)
        if profile is None:
            raise _invalid("ter:NoProfile", reason="The media profile does not exist")
        return profile

    @staticmethod
    def _check_stream_setup(setup: ET.Element | None) -> None:
        tt = f"{{{NS['tt']}}}"
        stream = setup.findtext(f"{tt}Stream") if setup is not None else None
        protocol = setup.findtext(f"{tt}Transport/{tt}Protocol") if setup is not None else None
        if stream != "RTP-Unicast" or protocol not in ("UDP", "TCP", "RTSP", "HTTP"):
            raise _invalid("ter:InvalidStreamSetup", reason="StreamType or Transport is not supported")

    def _malformed(self, kind: str, name: str) -> Response:
        good = A.envelope(A.x(f"trt:{name}Response"))
        bodies = {
            "truncated": good[: len(good) // 2],
            "wrong_answer": A.envelope(A.x("trt:SomethingElseResponse")),
            "no_uri": A.envelope(A.x(f"trt:{name}Response", A.x("trt:MediaUri", A.t("tt:Timeout", "PT0S")))),
            "doctype": A.BILLION_LAUGHS,
            "html": b"<html><body>Please log in</body></html>",
        }
        media_type = "text/html" if kind == "html" else SOAP
        return Response(bodies[kind], 200, media_type=media_type)

    # -- snapshots -----------------------------------------------------------------------------------------
    async def _snapshot(self, request: Request) -> Response:
        target = request.scope["raw_path"].decode("latin-1")
        if not self.snapshot_auth.check("GET", target, request.headers.get("authorization")):
            refusal = Response(b"unauthorized\n", 401, media_type="text/plain")
            for challenge in self.snapshot_auth.challenges():
                refusal.headers.append("www-authenticate", challenge)
            return refusal
        if "snapshot" in self.hang:
            await self._sleep(self.hang_seconds)
        jpeg = self.jpegs.get(request.path_params["source"])
        if jpeg is None:
            return Response(b"not found\n", 404, media_type="text/plain")
        self.calls["snapshot"] += 1
        if self.malformed.get("snapshot") == "not_jpeg":
            return Response(b"<html>camera busy</html>", 200, media_type="image/jpeg")
        return Response(jpeg, 200, media_type="image/jpeg")

    async def _sleep(self, seconds: float) -> None:
        end, generation = time.monotonic() + seconds, self._generation
        while not self._stopping and generation == self._generation and time.monotonic() < end:
            await asyncio.sleep(0.02)

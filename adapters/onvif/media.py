"""Media profiles (ONVIF Media Service Specification §5.2.2 GetProfiles) and the URIs of their streams.

A *camera* here is a video source (a lens, or an NVR channel): its profiles are encodings of the same picture
(typically a high-resolution main stream and a low-resolution sub stream), so listing each profile as a camera
would make school IT classify, and an MOU share, the same view two or three times. :func:`cameras` therefore
gives one camera per ``VideoSourceConfiguration/SourceToken``, streamed through the profile chosen by
``stream_choice``: H.264 first (the gateway repackages with ``-c copy`` into HLS), then H.265, then anything
else; among those the highest (or lowest) resolution. The camera's ref is that profile's token, so
:meth:`rtsp_source` is a single GetStreamUri; the other profiles are listed in the camera's details, and an
inventory may name any of them as the ref instead. Profiles without a video source (audio or metadata only)
are not cameras.

GetStreamUri (Media §5.15.1) is asked with ``StreamSetup`` = ``RTP-Unicast`` over ``RTSP`` (RTP interleaved in
the RTSP TCP connection: the transport every Profile S device supports and the gateway prefers); GetSnapshotUri
(§5.16.1) returns an HTTP URI of a JPEG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.onvif.soapxml import Node, el, text_el
from broker.adapterapi import AdapterError

_TOKEN = re.compile(r"[A-Za-z0-9_.:~@+{}-]{1,64}")  # tt:ReferenceToken: "Length up to 64 characters"
_ENCODING_RANK = {"H264": 0, "H265": 1}


@dataclass(frozen=True, slots=True)
class MediaProfile:
    token: str
    name: str
    source: str | None  # VideoSourceConfiguration/SourceToken
    source_name: str  # VideoSourceConfiguration/Name
    encoding: str | None  # VideoEncoderConfiguration/Encoding: JPEG, MPEG4, H264 (H265 on newer devices)
    width: int = 0
    height: int = 0

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}" if self.width and self.height else ""


def check_token(ref: str) -> str:
    if not _TOKEN.fullmatch(ref):
        raise AdapterError(f"camera ref {ref[:80]!r} is not an ONVIF profile token (up to 64 plain characters)")
    return ref


def _int(node: Node, *path: str) -> int:
    text = node.path_text(*path) or ""
    return int(text) if text.isdigit() else 0


def read_profiles(answer: Node, where: str) -> list[MediaProfile]:
    """The profiles of a GetProfilesResponse; a profile without a usable token is an error."""
    profiles = []
    for node in answer.iter_children("Profiles"):
        token = node.attrib.get("token", "")
        if not _TOKEN.fullmatch(token):
            raise AdapterError(f"{where}: malformed answer: profile token {token[:80]!r} is not a ReferenceToken")
        source = node.child("VideoSourceConfiguration")
        encoder = node.child("VideoEncoderConfiguration")
        profiles.append(
            MediaProfile(
                token=token,
                name=(node.path_text("Name") or token)[:64],
                source=(source.path_text("SourceToken") or None) if source is not None else None,
                source_name=((source.path_text("Name") or "") if source is not None else "")[:64],
                encoding=(encoder.path_text("Encoding") or None) if encoder is not None else None,
                width=_int(encoder, "Resolution", "Width") if encoder is not None else 0,
                height=_int(encoder, "Resolution", "Height") if encoder is not None else 0,
            )
        )
    return profiles


def cameras(profiles: list[MediaProfile], choice: str) -> list[tuple[MediaProfile, tuple[MediaProfile, ...]]]:
    """One entry per video source, in the device's order: (the profile to stream, the source's other profiles)."""
    by_source: dict[str, list[MediaProfile]] = {}
    for profile in profiles:
        if profile.source is not None:
            by_source.setdefault(profile.source, []).append(profile)
    sign = -1 if choice == "highest" else 1

    def rank(p: MediaProfile) -> tuple[int, int]:
        return (_ENCODING_RANK.get((p.encoding or "").upper(), 2), sign * p.width * p.height)

    chosen = []
    for group in by_source.values():
        best = min(group, key=rank)
        chosen.append((best, tuple(p for p in group if p is not best)))
    return chosen


def camera_name(profile: MediaProfile, taken: set[str]) -> str:
    """The video source configuration's name, else the profile's; made unique with the source token."""
    name = profile.source_name or profile.name
    if name in taken:
        name = f"{name} ({profile.source})"
    taken.add(name)
    return name


def stream_setup(prefix: str) -> str:
    """``StreamSetup`` (tt:StreamSetup) for RTP unicast over RTSP, inside the ``prefix`` service's request."""
    return el(f"{prefix}:StreamSetup", text_el("tt:Stream", "RTP-Unicast"),
              el("tt:Transport", text_el("tt:Protocol", "RTSP")))  # fmt: skip


def media_uri(answer: Node, where: str) -> str:
    """``MediaUri/Uri`` of a GetStreamUri or GetSnapshotUri answer (tt:MediaUri)."""
    uri = answer.path_text("MediaUri", "Uri")
    if not uri:
        raise AdapterError(f"{where}: malformed answer: no MediaUri/Uri")
    return uri

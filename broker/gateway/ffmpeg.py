"""The ffmpeg command that repackages one RTSP camera to HLS, its environment, and redaction of what it prints.

The command copies the camera's video as it is (``-c copy``: no decoding, no re-encoding, so a camera costs
the broker almost no CPU) into an HLS media playlist of short MPEG-TS segments in the camera's private work
directory (ffmpeg's *hls* muxer, https://ffmpeg.org/ffmpeg-formats.html#hls-2):

- ``-rtsp_transport tcp`` (RTP interleaved in the RTSP connection, RFC 7826 §14: no UDP ports to open, no loss),
  ``-timeout`` the RTSP socket I/O timeout in microseconds (https://ffmpeg.org/ffmpeg-protocols.html#rtsp);
- ``-hls_flags independent_segments+program_date_time+temp_file``: every segment starts with a keyframe
  (RFC 8216 §4.3.5.1), each is placed in time (§4.3.2.6, the rolling recording's index), and a segment is only
  renamed into place once complete;
- ``-hls_start_number_source epoch_us``: sequence numbers, and so segment names, never repeat across restarts,
  so a restart never overwrites recorded footage;
- no audio (``-an``): many cameras send G.711, which MPEG-TS HLS cannot carry as is, and recording sound
  raises eavesdropping-law questions a video-sharing MOU does not answer.

ffmpeg takes RTSP credentials only in the URL's userinfo, and its argument vector is readable by every local user
(``ps``, ``/proc/PID/cmdline``): so it never gets them. It reads the camera through the gateway's credential relay
on 127.0.0.1 (:mod:`.relay`), which answers the camera's challenge. It runs with an almost empty environment
(none of the broker's secrets), and every line it prints goes through :class:`Redactor` before it is logged or
kept (defence in depth: it has no credentials to print).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from broker.adapterapi import RtspSource
from broker.settings import GatewaySettings

PLAYLIST_NAME = "live.m3u8"
SEGMENT_TEMPLATE = "s%d.ts"
# A URL with userinfo, e.g. rtsp://user:pass@host/ (RFC 3986 §3.2.1), whatever ffmpeg does to it.
_USERINFO = re.compile(r"(?i)\b(rtsps?)://[^\s/@]*@")
_URL = re.compile(r"(?i)\brtsps?://\S+")


def ffmpeg_binary(configured: Path | None) -> str:
    if configured is not None:
        return str(configured)
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def hls_command(ffmpeg: str, relay_url: str, directory: Path, cfg: GatewaySettings) -> list[str]:
    """The argument vector of the repackaging process: the relay's URL (no credentials), absolute paths.

    RTP interleaved in the RTSP connection (RFC 7826 §14): the relay carries one TCP connection per camera."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "warning",
        "-rtsp_transport",
        "tcp",
        "-timeout",
        str(int(cfg.rtsp_timeout_seconds * 1_000_000)),
        "-analyzeduration",
        "1000000",
        "-probesize",
        "1000000",
        "-fflags",
        "+genpts",
        "-i",
        relay_url,
        "-map",
        "0:v:0",
        "-an",
        "-c",
        "copy",
        "-f",
        "hls",
        "-hls_time",
        f"{cfg.segment_seconds:g}",
        "-hls_list_size",
        str(cfg.list_size),
        "-hls_flags",
        "independent_segments+program_date_time+temp_file+omit_endlist",
        "-hls_start_number_source",
        "epoch_us",
        "-hls_segment_type",
        "mpegts",
        "-hls_segment_filename",
        str(directory / SEGMENT_TEMPLATE),
        str(directory / PLAYLIST_NAME),
    ]


def frame_command(ffmpeg: str, segment: Path) -> list[str]:
    """One JPEG from the first frame of a local segment (the segment starts with a keyframe)."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(segment),
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "-q:v",
        "4",
        "pipe:1",
    ]


def minimal_env() -> dict[str, str]:
    """The whole environment of an ffmpeg the gateway starts: nothing of the broker's (its secrets, proxies)."""
    return {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}


class Redactor:
    """Takes a source's credentials, and its URL (replaced by :meth:`RtspSource.redacted`), out of text."""

    def __init__(self, source: RtspSource) -> None:
        self.shown = source.redacted()
        self._urls = {source.with_credentials(), source.url}
        secrets = set(self._urls)
        if source.password:
            secrets |= {source.password, quote(source.password, safe="")}
        if source.username and len(source.username) >= 4:  # a shorter name would blank ordinary words
            secrets |= {source.username, quote(source.username, safe="")}
        # Longest first, so a URL is replaced whole before its parts.
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, self.shown if secret in self._urls else "***")
        return _USERINFO.sub(r"\1://", text)


def without_urls(text: str) -> str:
    """``text`` with every RTSP URL replaced by ``<camera>``: for API answers, which never name the camera's URL."""
    return _URL.sub("<camera>", _USERINFO.sub(r"\1://", text))

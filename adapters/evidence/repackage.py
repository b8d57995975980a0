"""Repackaging a clip into HLS media segments (MPEG-TS) with the bundled ffmpeg, without re-encoding.

``-c copy`` keeps the recorded H.264/H.265 and AAC bits as they are (evidence is never transcoded); the HLS
muxer cuts at key frames near ``segment_seconds`` and writes a VOD playlist (RFC 8216 §4.3.3.5) whose EXTINF
durations (§4.3.2.1) place each segment after the clip's start. Only the first video stream and, if present,
the first audio stream are kept: data tracks (GPS, telemetry) cannot travel in MPEG-TS and are not footage.

A clip is untrusted input. ffmpeg reads it through the ``file`` protocol only and with a fixed list of
container demuxers, so a "clip" that is really a playlist or a concat script cannot make ffmpeg open URLs or
other local files; it runs without a shell, with a time limit, into a fresh directory that is renamed into
place only when it is complete.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

PLAYLIST = "index.m3u8"
SEGMENT_NAME = re.compile(r"seg(\d{5})\.ts")
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,mpegts,matroska,webm,avi,asf"
MAX_SEGMENTS = 99_999
# ffmpeg's whole environment: nothing of the broker's, whose environment holds its secrets (stream token key,
# signing key, camera passwords), listed for a child by ``ps e`` and /proc/PID/environ (issue 13 item 9).
CHILD_ENV = {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}


class RepackageError(Exception):
    """ffmpeg could not read or repackage the clip; the message is ffmpeg's last words, for operators."""


@cache
def bundled_ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def read_segments(playlist: Path) -> tuple[tuple[str, float], ...]:
    """(file name, seconds) of each segment ffmpeg listed, checked: plain names, positive durations."""
    segments: list[tuple[str, float]] = []
    duration: float | None = None
    for line in playlist.read_text(encoding="ascii", errors="replace").splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#"):
            match = SEGMENT_NAME.fullmatch(line)
            if match is None or duration is None or not 0 < duration <= 600 or int(match.group(1)) != len(segments):
                raise RepackageError(f"unexpected line in ffmpeg's playlist: {line[:80]!r}")
            segments.append((line, duration))
            duration = None
    if not segments:
        raise RepackageError("ffmpeg wrote no segment: the clip holds no video")
    return tuple(segments)


def repackage(
    clip: Path, out: Path, *, segment_seconds: float, timeout: float, ffmpeg: str | None = None
) -> tuple[tuple[str, float], ...]:
    """Write ``out/seg00000.ts ...`` and ``out/index.m3u8`` for ``clip``; returns the segments."""
    work = Path(tempfile.mkdtemp(prefix=".part-", dir=out.parent))  # mode 0700
    cmd = [
        ffmpeg or bundled_ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        DEMUXERS,
        "-i",
        f"file:{clip.absolute()}",
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-c",
        "copy",
        "-sn",
        "-dn",
        "-f",
        "hls",
        "-hls_time",
        f"{segment_seconds:g}",
        "-hls_list_size",
        "0",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "mpegts",
        "-hls_segment_filename",
        str(work / "seg%05d.ts"),
        str(work / PLAYLIST),
    ]
    try:
        try:
            done = subprocess.run(
                cmd, capture_output=True, stdin=subprocess.DEVNULL, env=CHILD_ENV, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise RepackageError(f"ffmpeg took longer than {timeout:g} s (repackage_timeout_seconds)") from None
        if done.returncode != 0:
            lines = [x for x in done.stderr.decode("utf-8", "replace").splitlines() if x.strip()]
            last = lines[-1].strip() if lines else f"exit status {done.returncode}"
            raise RepackageError(f"ffmpeg cannot read it: {last[:300]}")
        segments = read_segments(work / PLAYLIST)
        if len(segments) > MAX_SEGMENTS:
            raise RepackageError(f"{len(segments)} segments, more than {MAX_SEGMENTS}")
        os.replace(work, out)  # complete, or not there at all
        return segments
    finally:
        shutil.rmtree(work, ignore_errors=True)

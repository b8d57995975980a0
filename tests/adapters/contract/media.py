"""Real clients for the contract's media checks: the bundled ffmpeg reads RTSP and decodes JPEGs."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg


@dataclass(frozen=True)
class Read:
    returncode: int
    frames: int  # video frames ffmpeg delivered (framecrc lines)
    log: str  # ffmpeg's stderr

    @property
    def codecs(self) -> str:
        return " ".join(line.strip() for line in self.log.splitlines() if "Video:" in line)


def _run(args: list[str]) -> Read:
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args, "-f", "framecrc", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    frames = sum(1 for line in done.stdout.splitlines() if line and not line.startswith("#"))
    return Read(done.returncode, frames, done.stderr)


def read_rtsp(url: str, *, transport: str = "tcp", frames: int = 10) -> Read:
    """Up to ``frames`` H.264 access units copied from ``url`` (no re-encode), as the gateway will take them."""
    return _run(["-rtsp_transport", transport, "-timeout", "10000000", "-i", url,
                 "-map", "0:v:0", "-frames:v", str(frames), "-c", "copy"])  # fmt: skip


def decode_jpeg(path: Path) -> Read:
    """ffmpeg decodes the image (no copy): a JPEG it cannot decode fails here."""
    return _run(["-f", "image2", "-c:v", "mjpeg", "-i", str(path), "-frames:v", "1"])


def read_media(path: Path, data: bytes) -> Read:
    """The video frames ffmpeg copies out of ``data`` (HLS segments, concatenated as MPEG-TS allows), no re-encode."""
    path.write_bytes(data)
    return _run(["-i", str(path), "-map", "0:v:0", "-c", "copy"])

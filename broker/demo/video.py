"""Real test video made with the ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


@cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _font() -> str | None:
    return next((f for f in FONT_CANDIDATES if Path(f).exists()), None)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'").replace("%", "\\%")


def label_filter(label: str, *, clock: bool = True) -> str:
    """A drawtext chain showing ``label`` and (optionally) the local wall-clock time."""
    font = _font()
    fontopt = f"fontfile={font}:" if font else ""
    parts = [
        f"drawtext={fontopt}text='{_escape(label)}':x=20:y=20:fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6"
    ]
    if clock:
        parts.append(
            f"drawtext={fontopt}text='%{{localtime\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}}':x=20:y=60:fontsize=24:"
            "fontcolor=yellow:box=1:boxcolor=black@0.6"
        )
    return ",".join(parts)


def make_hls(
    out_dir: Path,
    *,
    seconds: float = 4.0,
    segment_seconds: float = 1.0,
    label: str = "camgate test",
    size: str = "320x180",
    rate: int = 10,
    playlist: str = "index.m3u8",
) -> Path:
    """Encode a finished (VOD) H.264 HLS stream into ``out_dir``; returns the playlist path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / playlist
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        "-vf", label_filter(label, clock=False),
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-g", str(int(rate * segment_seconds)), "-sc_threshold", "0",
        "-f", "hls", "-hls_time", str(segment_seconds), "-hls_list_size", "0",
        "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(out_dir / "seg%03d.ts"),
        str(target),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return target


def make_clip(
    path: Path, *, seconds: float = 10.0, label: str = "camgate test", size: str = "320x180", rate: int = 10,
    audio: bool = True, keyframe_seconds: float = 1.0,
) -> Path:  # fmt: skip
    """An MP4 clip as a body or in-car camera records one: H.264 (``label`` burnt in) and AAC audio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sound = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"] if audio else []
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}", *sound,
        "-vf", label_filter(label, clock=False),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-g", str(max(1, round(rate * keyframe_seconds))),
        *(["-c:a", "aac", "-b:a", "64k"] if audio else ["-an"]), "-movflags", "+faststart", "-f", "mp4", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return path


def make_jpeg(path: Path, *, label: str = "camgate test", size: str = "320x180") -> Path:
    """One real JPEG frame showing ``label``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=1",
        "-vf", label_filter(label, clock=False), "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return path


def live_hls_cmd(
    out_dir: Path,
    *,
    label: str,
    segment_seconds: float = 1.0,
    list_size: int = 6,
    size: str = "640x360",
    rate: int = 15,
    start_number: int = 0,
    playlist: str = "index.m3u8",
) -> list[str]:
    """argv for an endless, real-time live H.264 HLS encoder of ``testsrc2`` with ``label`` and the time.

    Every segment starts with a keyframe and carries its wall-clock EXT-X-PROGRAM-DATE-TIME (RFC 8216
    §4.3.2.6, what places recorded footage in time); old segments are deleted; the playlist never gets ENDLIST.
    Light on CPU (ultrafast, one thread): a few percent of a core at 640x360@15.
    """
    gop = max(1, round(rate * segment_seconds))
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
        "-vf", label_filter(label, clock=True),
        "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-pix_fmt", "yuv420p", "-threads", "1",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})",
        "-f", "hls", "-hls_time", str(segment_seconds), "-hls_list_size", str(list_size),
        "-hls_delete_threshold", "3", "-start_number", str(start_number),
        "-hls_flags", "delete_segments+omit_endlist+temp_file+independent_segments+program_date_time",
        "-hls_segment_filename", str(out_dir / "seg_%d.ts"),
        str(out_dir / playlist),
    ]  # fmt: skip


def jpeg_from_video(path: Path, *, timeout: float = 10.0) -> bytes | None:
    """The first frame of a video file (e.g. an HLS segment) as JPEG bytes, or None if ffmpeg fails."""
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(path), "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "-q:v", "4", "pipe:1",
    ]  # fmt: skip
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if res.returncode != 0 or not res.stdout.startswith(b"\xff\xd8"):
        return None
    return res.stdout

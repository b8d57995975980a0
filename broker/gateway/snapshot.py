"""A JPEG of an RTSP camera for systems that offer no snapshot: the first frame of its newest live segment.

The segment is a local file the gateway wrote (it begins with a keyframe, ``independent_segments``), so the
decoding ffmpeg never talks to the camera and never sees its URL or credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from broker.adapterapi import AdapterError
from broker.gateway.ffmpeg import frame_command, minimal_env
from broker.gateway.process import require_absolute

JPEG_MAGIC = b"\xff\xd8"
MAX_JPEG_BYTES = 16 << 20


async def grab_frame(ffmpeg: str, segment: Path, *, timeout: float = 10.0) -> bytes:
    """The first frame of ``segment`` as a JPEG; :class:`AdapterError` if ffmpeg cannot make one in time."""
    argv = frame_command(ffmpeg, segment)
    require_absolute(argv)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=minimal_env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise AdapterError(f"cannot start ffmpeg for a snapshot: {exc.strerror}") from None
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise AdapterError(f"no frame from segment {segment.name} within {timeout:g} s", timeout=True) from None
    if proc.returncode != 0 or not out.startswith(JPEG_MAGIC) or len(out) > MAX_JPEG_BYTES:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise AdapterError(f"no frame from segment {segment.name}: {last[0]}")
    return out

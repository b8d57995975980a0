"""What a failed gateway process is said to have died of: the line of ffmpeg's that says why, not the generic lines
it ends every failed start with (the words are ffmpeg 7's for a silent camera, a refused password and a session
description without video), its memory addresses dropped, its URLs redacted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from broker.gateway.process import FfmpegProcess

SILENT = """[in#0 @ 0x5582e4183340] Failed reading RTSP data: Connection timed out
[in#0 @ 0x5582e4183000] Error opening input: Invalid data found when processing input
Error opening input file rtsp://camgate:pw@127.0.0.1:8554/cam1.
Error opening input files: Invalid data found when processing input"""
REFUSED = """[in#0 @ 0x5623f0001340] method DESCRIBE failed: 401 (Unauthorized)
[in#0 @ 0x5623f0001000] Error opening input: Server returned 401 Unauthorized (authorization failed)
Error opening input file rtsp://camgate:pw@127.0.0.1:8554/cam1.
Error opening input files: Server returned 401 Unauthorized (authorization failed)"""
NO_VIDEO = """Stream map '' matches no streams.
To ignore this, add a trailing '?' to the map.
Failed to set value '0:v:0' for option 'map': Invalid argument
Error parsing options for output file /var/lib/camgate/gateway/1/abc/live.m3u8.
Error opening output files: Invalid argument"""


@pytest.mark.parametrize(
    ("printed", "said"),
    [
        (SILENT, "Failed reading RTSP data: Connection timed out"),
        (REFUSED, "method DESCRIBE failed: 401 (Unauthorized)"),
        (NO_VIDEO, "Stream map '' matches no streams."),
        ("Error opening input files: Invalid data found when processing input", "Error opening input files: "
         "Invalid data found when processing input"),  # nothing better said: the last line
    ],
)  # fmt: skip
def test_the_line_that_says_why(tmp_path: Path, printed: str, said: str) -> None:
    (tmp_path / "stderr.txt").write_text(printed + "\n")
    argv = ["/bin/sh", "-c", 'cat "$0" >&2', str(tmp_path / "stderr.txt")]
    process = FfmpegProcess(argv, {"PATH": "/usr/bin:/bin"}, tmp_path, lambda s: s.replace(":pw@", "@"))
    deadline = time.monotonic() + 10
    while process.poll() is None or process.error() != said:  # the reader thread may still be at it
        assert time.monotonic() < deadline, process.error()
        time.sleep(0.02)

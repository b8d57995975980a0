"""What a failed gateway process is said to have died of: the line of ffmpeg's that says why, not the generic lines
it ends every failed start with (the words are ffmpeg 7's for a silent camera, a refused password and a session
description without video), its memory addresses dropped, its URLs redacted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from broker.gateway.process import FfmpegProcess, RelativePath, require_absolute

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
        (
            "Error opening input files: Invalid data found when processing input",
            "Error opening input files: Invalid data found when processing input",
        ),  # nothing better said: the last line
    ],
)
def test_the_line_that_says_why(tmp_path: Path, printed: str, said: str) -> None:
    (tmp_path / "stderr.txt").write_text(printed + "\n")
    argv = ["/bin/sh", "-c", 'cat "$0" >&2', str(tmp_path / "stderr.txt")]
    process = FfmpegProcess(argv, {"PATH": "/usr/bin:/bin"}, tmp_path, lambda s: s.replace(":pw@", "@"))
    deadline = time.monotonic() + 10
    while process.poll() is None or process.error() != said:  # the reader thread may still be at it
        assert time.monotonic() < deadline, process.error()
        time.sleep(0.02)


def test_what_ffmpeg_prints_is_logged_naming_the_camera(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Was "ffmpeg 4242: failed to rename file …": which camera's ffmpeg, the operator could not tell (issue 13,
    item 5)."""
    caplog.set_level("DEBUG", logger="camgate.gateway")
    (tmp_path / "stderr.txt").write_text("failed to rename file live.m3u8.tmp\n")
    argv = ["/bin/sh", "-c", 'cat "$0" >&2', str(tmp_path / "stderr.txt")]
    process = FfmpegProcess(argv, {"PATH": "/usr/bin:/bin"}, tmp_path, str, camera="ncps-cams/saxe-bus-loop")
    deadline = time.monotonic() + 10
    while "failed to rename" not in caplog.text:
        assert time.monotonic() < deadline and process.poll() in (None, 0)
        time.sleep(0.02)
    (record,) = [r for r in caplog.records if "failed to rename" in r.getMessage()]
    assert "ncps-cams/saxe-bus-loop" in record.getMessage() and record.camera == "ncps-cams/saxe-bus-loop"


@pytest.mark.parametrize(
    ("argv", "directory"),
    [
        (["/usr/bin/ffmpeg", "-i", "x", ".camgate/gateway/1/abc/live.m3u8"], "/tmp"),  # a relative output
        (["ffmpeg", "-version"], "/tmp"),  # a program found through PATH, in whatever directory
        (["/usr/bin/ffmpeg", "-version"], ".camgate/gateway/1/abc"),  # a relative working directory
    ],
)
def test_a_child_process_is_never_given_a_relative_path(tmp_path: Path, argv: list[str], directory: str) -> None:
    with pytest.raises(RelativePath):
        FfmpegProcess(argv, {"PATH": "/usr/bin:/bin"}, Path(directory), str)
    require_absolute(["/usr/bin/ffmpeg", "-i", "rtsp://127.0.0.1:5/cam", "-map", "0:v:0", str(tmp_path / "x")])

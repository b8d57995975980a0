"""The HLS rig: :class:`adapters.hls.HlsAdapter` against :class:`tests.fakes.hls_origin.FakeHlsOrigin` (a VMS serving
two cameras' live HLS, JPEG snapshots and recording playlists placed in time, behind HTTP Digest), the password
from ``auth.password_env``. The VMS does not list its cameras (the inventory names them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.hls import HlsAdapter
from broker.adapterapi import SystemSpec
from tests.adapters.contract.rigs import Fault, Rig, RigEnv, RigKind
from tests.fakes.hls_origin import FakeHlsOrigin, build_origin_content

PASSWORD = "vms p@ss:wörd"
ENV, WRONG_ENV = "CAMGATE_CONTRACT_HLS_PASSWORD", "CAMGATE_CONTRACT_HLS_WRONG"
TIMEOUT = 2.0
# A recording the VMS cannot place in time: no EXT-X-PROGRAM-DATE-TIME (RFC 8216 §4.3.2.6).
UNPLACED = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.000,\nseg000.ts\n#EXT-X-ENDLIST\n"


def write_recording(camera_dir: Path, start: datetime) -> float:
    """``recording.m3u8`` beside the camera's VOD playlist: its segments, the first at ``start``; their seconds."""
    lines, seconds = [], 0.0
    for line in (camera_dir / "index.m3u8").read_text().splitlines():
        if line.startswith("#EXTINF:") and not seconds:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{start.isoformat(timespec='milliseconds')}")
        if line.startswith("#EXTINF:"):
            seconds += float(line[8:].split(",", 1)[0])
        lines.append(line)
    (camera_dir / "recording.m3u8").write_text("\n".join(lines) + "\n")
    return seconds


@contextmanager
def start(env: RigEnv) -> Iterator[Rig]:
    content = build_origin_content(env.workdir / "vms")
    recorded_from = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    seconds = min(write_recording(content.root / camera, recorded_from) for camera in content.cameras)
    os.environ[ENV], os.environ[WRONG_ENV] = PASSWORD, "not-the-password"
    try:
        with FakeHlsOrigin(content.root) as origin:

            def set_fault(fault: Fault) -> None:
                origin.reset()
                origin.require_auth("digest", username="camgate", password=PASSWORD)
                for camera in content.cameras:
                    paths = (f"{camera}/index.m3u8", f"{camera}/snapshot.jpg", f"{camera}/recording.m3u8")
                    if fault == "hang":
                        for path in paths:
                            origin.slow(path, 30.0)
                    elif fault == "malformed":
                        origin.override(paths[2], UNPLACED)
                        origin.override(paths[1], b"<html>camera offline</html>", content_type="image/jpeg")

            def build(right_password: bool = True) -> HlsAdapter:
                auth = {"type": "digest", "username": "camgate", "password_env": ENV if right_password else WRONG_ENV}
                settings = {"auth": auth, "timeout_seconds": TIMEOUT, "verify_tls": False}
                return HlsAdapter(SystemSpec("district-vms", "hls", origin.base_url, settings))

            set_fault(None)
            yield Rig(
                name="hls",
                system_id="district-vms",
                expected=tuple((camera, camera) for camera in content.cameras),
                missing_ref="cam9",
                secret=PASSWORD,
                timeout_seconds=TIMEOUT,
                malformed=r"recording playlist line 5: segment without #EXT-X-PROGRAM-DATE-TIME",
                build=build,
                set_fault=set_fault,
                window=(recorded_from, recorded_from + timedelta(seconds=seconds)),
            )
    finally:
        del os.environ[ENV], os.environ[WRONG_ENV]


KIND = RigKind(name="hls", start=start, serves="hls", lists=False, recording=True)

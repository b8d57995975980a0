"""The evidence rig: :class:`adapters.evidence.EvidenceAdapter` on a folder a Digital Ally export job fills
(:class:`tests.fakes.evidence.EvidenceFolder`: real MP4 clips made by ffmpeg, ``.mtd`` sidecars), two body cameras
with a 6-second clip each, ten minutes ago.

An evidence folder has no live video and no snapshot (footage is served only by playback, whose window the MOU
decides), no credentials and nothing to time out (``asks="folder"``). Its "wrong credentials" are the broker's
own file permissions: a folder its user may not read is an AdapterError naming the folder and what to do, never
AuthFailed (whose remedy is a password an operator does not have here). A malformed answer is a malformed
sidecar: that clip is skipped and reported (``problems()``), the rest plays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from adapters.evidence import EvidenceAdapter
from broker.adapterapi import SystemSpec
from tests.adapters.contract.rigs import Fault, Rig, RigEnv, RigKind
from tests.fakes.evidence import CLIP_SECONDS, EvidenceFolder, make_test_clip

DEVICES = ("pb-body-03", "pb-body-05")
BAD = "bad-export"


@contextmanager
def start(env: RigEnv) -> Iterator[Rig]:
    folder = EvidenceFolder(env.workdir / "exports", make_test_clip(env.workdir))
    recorded = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    for n, device in enumerate(DEVICES):
        folder.drop(f"stop-{n + 1}", device, recorded, fmt="digital_ally", age=60)
    settings = {"path": str(folder.path), "format": "digital_ally", "cache_dir": str(env.workdir / "cache")}
    spec = SystemSpec("ncpb-evidence", "evidence", None, settings)

    def build(right_password: bool = True) -> EvidenceAdapter:  # no credentials: the flag changes nothing
        return EvidenceAdapter(spec)

    def set_fault(fault: Fault) -> None:
        if fault == "malformed":  # an export whose sidecar is not 'Key: value' lines
            folder.drop(BAD, "pb-body-07", recorded, fmt="digital_ally", metadata="Unit Serial pb-body-07\n", age=60)
        else:
            for suffix in (".mp4", ".mtd"):
                (folder.path / f"{BAD}{suffix}").unlink(missing_ok=True)

    yield Rig(
        name="evidence",
        system_id="ncpb-evidence",
        expected=tuple((device, f"FirstVu HD {device}") for device in DEVICES),
        missing_ref="pb-body-99",
        secret=None,
        timeout_seconds=None,
        malformed=rf"^metadata file '{BAD}\.mtd': line 1: not 'Key: value'$",
        build=build,
        set_fault=set_fault,
        window=(recorded, recorded + timedelta(seconds=CLIP_SECONDS)),
        spec=spec,
    )


KIND = RigKind(name="evidence", start=start, serves="hls", live=False, snapshot=False, recording=True, asks="folder")

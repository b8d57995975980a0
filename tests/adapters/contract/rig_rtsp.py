"""The generic RTSP rig: :class:`adapters.rtsp.RtspAdapter` (a path per camera under ``base_url``, the password from
``password_file``) against :class:`tests.fakes.rtsp.FakeRtspCamera` (two mounts, Digest authentication).

The adapter asks the camera nothing (``asks="stream"``): wrong credentials, silence and malformed answers meet
the broker's gateway when it opens the stream. ``set_fault`` therefore changes which camera adapters built
while it is set reach: the real one, one that never answers, or one whose DESCRIBE is no session description
(:class:`tests.fakes.rtsp_broken.BrokenRtspCamera`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from adapters.rtsp import RtspAdapter
from broker.adapterapi import SystemSpec
from tests.adapters.contract.rigs import Fault, Rig, RigEnv, RigKind
from tests.fakes.rtsp import FakeRtspCamera
from tests.fakes.rtsp_broken import BrokenRtspCamera

PASSWORD = "rtsp p@ss:wörd/1"  # characters the URL's userinfo must percent-encode
CAMERAS = {"bus-loop": "live/ch1", "lot-b": "live/ch2"}


@contextmanager
def start(env: RigEnv) -> Iterator[Rig]:
    right, wrong = env.workdir / "rtsp-password", env.workdir / "rtsp-wrong-password"
    right.write_text(PASSWORD + "\n", encoding="utf-8")
    wrong.write_text("not-the-password\n", encoding="utf-8")
    with ExitStack() as stack:
        mounts = tuple(f"/{path}" for path in CAMERAS.values())
        camera = stack.enter_context(FakeRtspCamera(env.clip, mounts=mounts, username="camgate", password=PASSWORD))
        broken = {mode: stack.enter_context(BrokenRtspCamera(mode)) for mode in ("hang", "malformed")}
        state: dict[str, Fault] = {"fault": None}

        def build(right_password: bool = True) -> RtspAdapter:
            port = camera.port if state["fault"] is None else broken[state["fault"]].port
            settings = {
                "cameras": CAMERAS,
                "username": "camgate",
                "password_file": str(right if right_password else wrong),
            }
            return RtspAdapter(SystemSpec("lot-rtsp", "rtsp", f"rtsp://127.0.0.1:{port}/", settings))

        def set_fault(fault: Fault) -> None:
            state["fault"] = fault

        yield Rig(
            name="rtsp",
            system_id="lot-rtsp",
            expected=tuple((ref, ref) for ref in CAMERAS),
            missing_ref="lot-z",
            secret=PASSWORD,
            timeout_seconds=None,  # the gateway's rtsp_timeout_seconds applies (see through.py)
            malformed=r"matches no streams",
            build=build,
            set_fault=set_fault,
        )


KIND = RigKind(name="rtsp", start=start, lists=False, snapshot=False, asks="stream")

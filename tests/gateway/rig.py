"""A broker with RTSP cameras for gateway tests: the example district plus an ``adapter: rtsp`` system whose two
exterior cameras at Saxe (``saxe-rtsp-01`` on ``/cam1``, ``saxe-rtsp-02`` on ``/cam2``) are a
:class:`~tests.fakes.rtsp.FakeRtspCamera`, served in-process by uvicorn on 127.0.0.1::

    with rtsp_broker(tmp_path, camera, gateway={"idle_seconds": 2}) as rig:
        rig.get(rig.live_url("saxe-rtsp-01"))              # the officer's live playlist through the broker
        read_video(rig.live_url("saxe-rtsp-01", token=True), seconds=2)   # a real ffmpeg reads it
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import yaml

from broker.api import create_app
from broker.api.services import Services
from broker.settings import load_settings
from tests.fakes.rtsp import FakeRtspCamera
from tests.fakes.servers import serve_in_thread
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

USER, PASSWORD = "lotwatch", "s3 cr@t:pw"  # characters that need percent-encoding in a URL's userinfo
SYSTEM = "saxe-rtsp"
CAMERAS = {"saxe-rtsp-01": "cam1", "saxe-rtsp-02": "cam2"}
FAST = {"segment_seconds": 1.0, "backoff_initial_seconds": 0.5, "tick_seconds": 0.2, "idle_seconds": 20.0}


def write_documents(tmp_path: Path, camera: FakeRtspCamera, *, password: str = PASSWORD, **system: Any) -> Path:
    """The example inventory plus the RTSP system and its cameras; returns the inventory's path."""
    inv = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    secret = tmp_path / "rtsp-password"
    secret.write_text(password + "\n")
    inv["systems"].append(
        {
            "id": SYSTEM,
            "owner": "ncps",
            "adapter": "rtsp",
            "username": USER,
            "password_file": str(secret),
            "url_template": f"rtsp://127.0.0.1:{camera.port}/{{ref}}",
            **system,
        }
    )
    for cam_id, ref in CAMERAS.items():
        inv["cameras"].append(
            {
                "id": cam_id,
                "name": f"Bus loop {ref}",
                "site": "ncps-saxe",
                "building": "main",
                "zone": "exterior",
                "system": SYSTEM,
                "ref": ref,
            }
        )
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(inv))
    if not (tmp_path / "mou").exists():
        shutil.copytree(EXAMPLE_MOUS, tmp_path / "mou")
    return path


@dataclass
class Rig:
    url: str
    services: Services
    camera: FakeRtspCamera

    def token(self, sub: str = "officer-kim", roles: tuple[str, ...] = ("officer",)) -> str:
        assert self.services.dev_issuer is not None
        return self.services.dev_issuer.mint(sub, "ncpd", list(roles), now=self.services.clock.now())

    def live_url(self, camera: str, token: str | None = None) -> str:
        return f"{self.url}/api/v1/cameras/{camera}/live.m3u8?access_token={token or self.token()}"

    def get(self, path_or_url: str, token: str | None = None, timeout: float = 30) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        return httpx.get(url, headers={"Authorization": f"Bearer {token or self.token()}"}, timeout=timeout)

    @property
    def gateway(self) -> Any:
        return self.services.gateway


@contextmanager
def rtsp_broker(
    tmp_path: Path,
    camera: FakeRtspCamera,
    *,
    gateway: dict[str, Any] | None = None,
    gateway_block: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    password: str = PASSWORD,
    **system: Any,
) -> Iterator[Rig]:
    """``gateway``: settings ``gateway.*``; ``gateway_block``: the system's ``gateway`` entry; ``settings``: other
    sections of the settings (e.g. ``audit``); ``system``: other keys of the system."""
    if gateway_block is not None:
        system["gateway"] = gateway_block
    inventory = write_documents(tmp_path, camera, password=password, **system)
    loaded = load_settings(
        mode="dev",
        data_dir=tmp_path / "data",
        gateway=FAST | (gateway or {}),
        policy={"inventory": inventory, "mous": [tmp_path / "mou"]},
        **(settings or {}),
    )
    app = create_app(loaded)
    with serve_in_thread(app) as url:
        yield Rig(url, app.state.services, camera)


FRAMES = re.compile(r"frame=\s*(\d+)")


def read_video(url: str, seconds: float, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A real client: ffmpeg reads ``seconds`` of video from ``url`` (HLS through the broker, or RTSP)."""
    return subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-i",
            url,
            "-t",
            str(seconds),
            "-map",
            "0:v",
            "-c",
            "copy",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def frames(stderr: str) -> int:
    """The last frame count ffmpeg reported."""
    counts = FRAMES.findall(stderr)
    return int(counts[-1]) if counts else 0

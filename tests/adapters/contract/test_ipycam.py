"""The ONVIF adapter against an ONVIF camera this project did not write: ``ipycam`` (PyPI, a virtual IP camera whose
ONVIF service checks WS-UsernameToken digests and answers a refusal with HTTP 401 and a "Sender not authorized"
fault). Its wrong-credentials answer is what found issue 13, item 6: viewers were told ``upstream_error``, not
``upstream_auth``, because the gateway made text of the adapter's AuthFailed and looked for " 401 " in it.

Only ipycam's ONVIF service runs here (its HTTP handler and ``ONVIFService``, on 127.0.0.1): the whole
``IPCamera`` would also answer WS-Discovery on every interface and want go2rtc or frames pushed to it. Its stream
URI is pointed (``rtsp_port``, ``main_stream_name``) at a GStreamer RTSP camera (tests/fakes/rtsp.py) with the
same credentials, so live video through the broker is checked too."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import ipycam  # pinned in pyproject's dev extras (it brings numpy and opencv-python)
import pytest
import yaml

from adapters.onvif import OnvifAdapter
from broker.adapterapi import AuthFailed, SystemSpec
from broker.api import create_app
from broker.settings import load_settings
from tests.fakes.rtsp import FakeRtspCamera, build_rtsp_clip
from tests.fakes.servers import serve_in_thread
from tests.gateway.rig import frames, read_video
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

USER, PASSWORD = "camgate", "ipycam pass:1"
PASSWORD_ENV, WRONG_ENV = "CAMGATE_TEST_IPYCAM_PASSWORD", "CAMGATE_TEST_IPYCAM_WRONG"
MAIN = "Profile_Main"


@dataclass
class Ipycam:
    port: int
    camera: FakeRtspCamera

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ipycam]:
    clip = build_rtsp_clip(tmp_path_factory.mktemp("ipycam-clip"))
    with FakeRtspCamera(clip, mounts=("/video_main",), username=USER, password=PASSWORD) as camera:
        server = ThreadingHTTPServer(("127.0.0.1", 0), ipycam.IPCameraHTTPHandler)
        port = int(server.server_address[1])
        config = ipycam.CameraConfig(name="ipycam", local_ip="127.0.0.1", onvif_port=port, rtsp_port=camera.port)
        config.set_credentials(USER, PASSWORD)

        class Stub:  # what ipycam's handler asks of its IPCamera on the ONVIF path
            pass

        stub = Stub()
        stub.config, stub.onvif = config, ipycam.ONVIFService(config)  # type: ignore[attr-defined]
        server.RequestHandlerClass = type("Handler", (ipycam.IPCameraHTTPHandler,), {"camera": stub})
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Ipycam(port, camera)
        finally:
            server.shutdown()
            server.server_close()


def adapter(device: Ipycam, password: str) -> OnvifAdapter:
    spec = SystemSpec("ipycam", "onvif", device.base_url, {"username": USER, "password_env": PASSWORD_ENV})
    return OnvifAdapter(spec, environ={PASSWORD_ENV: password})


def run(built: OnvifAdapter, coro: Any) -> Any:
    async def main() -> Any:
        try:
            return await coro(built)
        finally:
            await built.aclose()

    return asyncio.run(main())


def test_the_adapter_lists_ipycams_profiles_and_its_stream(device: Ipycam) -> None:
    listed = run(adapter(device, PASSWORD), lambda a: a.discover())
    assert MAIN in [c.ref for c in listed]
    source = run(adapter(device, PASSWORD), lambda a: a.rtsp_source(MAIN))
    assert source.url == f"rtsp://127.0.0.1:{device.camera.port}/video_main"
    assert (source.username, source.password) == (USER, PASSWORD)  # kept apart from the URL


@pytest.mark.parametrize("call", ["discover", "rtsp_source"])
def test_ipycam_refusing_the_password_is_auth_failed(device: Ipycam, call: str) -> None:
    use = (lambda a: a.discover()) if call == "discover" else (lambda a: a.rtsp_source(MAIN))
    with pytest.raises(AuthFailed) as refused:
        run(adapter(device, "not-the-password"), use)
    assert refused.value.status == 401 and "not-the-password" not in str(refused.value)


@pytest.mark.video
def test_through_the_broker_ipycam_plays_and_a_wrong_password_is_upstream_auth(
    device: Ipycam, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv(WRONG_ENV, "not-the-password")
    inventory = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    for system, env in (("ipycam", PASSWORD_ENV), ("ipycam-wrong", WRONG_ENV)):
        inventory["systems"].append(
            {
                "id": system,
                "owner": "ncps",
                "adapter": "onvif",
                "base_url": device.base_url,
                "username": USER,
                "password_env": env,
            }
        )
        inventory["cameras"].append(
            {
                "id": f"{system}-01",
                "name": system,
                "site": "ncps-saxe",
                "building": "main",
                "zone": "exterior",
                "system": system,
                "ref": MAIN,
            }
        )
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inventory))
    settings = load_settings(
        mode="dev",
        data_dir=tmp_path / "data",
        gateway={"segment_seconds": 1.0, "tick_seconds": 0.2, "startup_timeout_seconds": 20},
        policy={"inventory": tmp_path / "inventory.yaml", "mous": [EXAMPLE_MOUS]},
    )
    app = create_app(settings)
    with serve_in_thread(app) as url:
        services = app.state.services
        token = services.dev_issuer.mint("officer-kim", "ncpd", ["officer"], now=services.clock.now())
        refused = read_json(f"{url}/api/v1/cameras/ipycam-wrong-01/live.m3u8", token)
        assert refused == (502, "upstream_auth"), refused
        played = read_video(f"{url}/api/v1/cameras/ipycam-01/live.m3u8?access_token={token}", 1)
        assert played.returncode == 0 and frames(played.stderr) >= 8, played.stderr[-800:]


def read_json(url: str, token: str) -> tuple[int, str]:
    import httpx

    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return answer.status_code, answer.json().get("error", "") if answer.status_code != 200 else ""

"""The contract's live check through the broker: each RTSP rig's camera is offered as HLS by the broker's
gateway, and ffmpeg reads its H.264 through ``live.m3u8`` with a viewer's token; the device's password is
in no playlist the broker serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.adapters.contract.rigs import Rig, offering
from tests.adapters.contract.through import ADAPTER, CAMERA, TARGET, broker_for
from tests.gateway.rig import frames, read_video

pytestmark = pytest.mark.video


@pytest.mark.parametrize("rig", offering("live"), indirect=True)
def test_live_video_through_the_broker(rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters

    monkeypatch.setitem(adapters.ADAPTERS, ADAPTER, TARGET)
    ref = rig.expected[0][0]
    with broker_for(tmp_path, rig.system_id, ref, rig.build) as (url, services):
        assert services.dev_issuer is not None
        token = services.dev_issuer.mint("officer-kim", "ncpd", ["officer"], now=services.clock.now())
        live = f"{url}/api/v1/cameras/{CAMERA}/live.m3u8?access_token={token}"
        playlist = httpx.get(live, timeout=30)
        assert playlist.status_code == 200, playlist.text
        assert rig.secret not in playlist.text and "rtsp://" not in playlist.text
        read = read_video(live, 1)
        assert read.returncode == 0 and "Video: h264" in read.stderr and frames(read.stderr) >= 8, read.stderr[-800:]
        status = services.gateway_status(rig.system_id)
        assert status is not None and status["processes"] == 1 and rig.secret not in str(status)

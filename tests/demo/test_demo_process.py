"""``camgate demo`` as a process: a SIGTERM (what ``docker stop`` or a service manager sends) stops its
simulated VMSes and their ffmpeg encoders instead of leaving them running."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.api.broker_process import BrokerProcess
from tests.waiting import wait_for

pytestmark = pytest.mark.video


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_stops_the_encoders(tmp_path: Path) -> None:
    broker = BrokerProcess.start(tmp_path)
    try:
        officer = broker.token("officer-kim", "ncpd", "officer")
        r = httpx.get(f"{broker.url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token={officer}", timeout=30)
        assert r.status_code == 200, r.text
        encoders = children(broker.proc.pid)
        assert encoders, "an encoder runs for the watched camera"
        os.kill(broker.proc.pid, signal.SIGTERM)  # the broker alone, not its process group
        broker.proc.wait(timeout=30)
        wait_for(lambda: not any(alive(pid) for pid in encoders), 10, "the encoders to stop")
    finally:
        broker.stop()


def test_kill_9_leaves_no_encoder_and_no_rtsp_server_running(tmp_path: Path) -> None:
    """Was: 18 ffmpeg encoders and the RTSP camera server ran on after ``kill -9`` (reparented to init), and the
    next ``make demo`` failed: "the demo's RTSP camera server did not start on 127.0.0.1:9554"."""
    broker = BrokerProcess.start(tmp_path)
    try:
        officer = broker.token("officer-kim", "ncpd", "officer")
        r = httpx.get(f"{broker.url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token={officer}", timeout=30)
        assert r.status_code == 200, r.text
        started = children(broker.proc.pid)
        assert len(started) >= 2, "an encoder for the watched camera, and the RTSP camera's server and encoder"
        os.kill(broker.proc.pid, signal.SIGKILL)
        broker.proc.wait(timeout=30)
        wait_for(lambda: not any(alive(pid) for pid in started), 10, "the demo's children to die with it")
    finally:
        broker.stop()


def test_ctrl_c_stops_every_child_quietly(tmp_path: Path) -> None:
    """Ctrl-C at ``make demo``'s terminal (SIGINT to its whole process group) while an HLS camera and the RTSP
    camera played and a console was open: the demo never stopped (uvicorn waited for the console's event stream,
    which ended only in the shutdown that came after), and the credential relay printed a traceback."""
    broker = BrokerProcess.start(tmp_path, site_recording=600)  # as make demo: watching keeps the site encoding
    try:
        officer = broker.token("officer-kim", "ncpd", "officer")
        for camera in ("saxe-ext-01", "saxe-ext-02"):  # a VMS encoder; the gateway's ffmpeg and its relay
            url = f"{broker.url}/api/v1/cameras/{camera}/live.m3u8?access_token={officer}"
            wait_for(lambda u=url: httpx.get(u, timeout=30).status_code == 200, 60, f"{camera} playing")
        started = children(broker.proc.pid)
        before = len(broker.log())
        with httpx.stream(  # a console left open: its event stream holds the broker's shutdown a moment
            "GET", f"{broker.url}/api/v1/events", headers={"Authorization": f"Bearer {officer}"}, timeout=60
        ) as events:
            assert events.status_code == 200
            os.killpg(broker.proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: the foreground process group
            broker.proc.wait(timeout=30)  # was: for ever, the stream held uvicorn's shutdown
        wait_for(lambda: not any(alive(pid) for pid in started), 10, "the demo's children to stop")
        after = broker.log()[before:]
        for noise in ("restarting", "Traceback", "Exception in callback"):
            assert noise not in after, after[-3000:]
    finally:
        broker.stop()

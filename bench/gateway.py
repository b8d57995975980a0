"""The RTSP gateway: viewers served per RTSP camera and CPU per stream, through the broker vs. straight from RTSP.

One RTSP camera (GStreamer's RTSP server, tests/fakes/rtsp.py, fed 720p H.264 at 15 fps, a keyframe a second)
and one real ``camgate serve`` whose inventory offers it through the gateway. For 1, 10 and 50 viewers, each a
real ffmpeg client copying the video to nowhere (``-c copy -f null``):

- *broker*: every viewer reads ``live.m3u8`` through the broker (its own token, its own viewing session);
  the camera sees one RTSP client, the gateway's ffmpeg;
- *direct*: every viewer opens the RTSP stream itself, as players did before the broker.

After a warm-up, each path is measured for ``--seconds``: viewers served (clients that received every frame the
camera sent meanwhile but at most two seconds' worth: an HLS player receives whole one-second segments), the
lowest frame rate a client received, RTSP connections the camera accepted, and CPU time per second of
wall-clock (100% = one core) of the broker process, the gateway's ffmpeg, the RTSP server and the clients.
"Serving CPU per stream" is what delivering video costs beyond the viewers' own players: broker + gateway
ffmpeg + RTSP server for the broker path, the RTSP server for the direct path, divided by the viewers.

    .venv/bin/python bench/gateway.py [--viewers 1,10,50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore", message="The httpx module is deprecated")  # authlib's, at import

from broker.adapterapi import RtspSource  # noqa: E402
from tests.brokers import CAMGATE, dev_token, free_port  # noqa: E402
from tests.fakes.rtsp import FakeRtspCamera, build_rtsp_clip  # noqa: E402
from tests.gateway.rig import PASSWORD, USER, write_documents  # noqa: E402

FPS = 15
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def gateway_pids(broker_pid: int) -> list[int]:
    out = []
    for pid in children(broker_pid):
        try:
            if b"\0hls\0" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            continue
    return out


class Client:
    """A real ffmpeg viewer; ``frames`` follows its progress report."""

    def __init__(self, args: list[str]) -> None:
        self.frames = 0
        self.proc = subprocess.Popen(
            [CAMGATE_FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
             "-stats_period", "0.5", *args, "-map", "0:v", "-c", "copy", "-f", "null", "-"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("frame="):
                self.frames = int(line[6:].strip() or 0)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@dataclass
class Measured:
    served: int
    connections: int
    broker: float
    gateway: float
    server: float
    clients: float
    min_fps: float


def measure(clients: list[Client], seconds: float, camera: FakeRtspCamera, broker_pid: int | None,
            connections_before: int) -> Measured:  # fmt: skip
    deadline = time.monotonic() + 60
    while any(c.frames == 0 for c in clients):
        if time.monotonic() > deadline:
            raise SystemExit("some viewers got no video within 60 s")
        time.sleep(0.2)
    time.sleep(3)  # past the players' start-up burst
    server = camera._server.pid if camera._server else 0
    gateway = gateway_pids(broker_pid) if broker_pid else []
    pids = {"broker": [broker_pid] if broker_pid else [], "gateway": gateway, "server": [server],
            "clients": [c.proc.pid for c in clients]}  # fmt: skip
    before = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items()}
    frames_before = [c.frames for c in clients]
    started = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - started
    after = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items()}
    expected = FPS * wall
    got = [c.frames - f for c, f in zip(clients, frames_before, strict=True)]
    served = sum(1 for g in got if g >= expected - 2 * FPS)  # an HLS player receives whole 1-s segments
    use = {k: 100 * (after[k] - before[k]) / wall for k in pids}
    return Measured(served, camera.clients - connections_before, use["broker"], use["gateway"], use["server"],
                    use["clients"], min(got) / wall)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", default="1,10,50")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    counts = [int(v) for v in args.viewers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        clip = build_rtsp_clip(tmp_path, seconds=10, size="1280x720", fps=FPS)
        with FakeRtspCamera(clip, mounts=("/cam1",), username=USER, password=PASSWORD) as camera:
            inventory = write_documents(tmp_path, camera)
            port = free_port()
            env = os.environ | {
                "CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(tmp_path / "data"),
                "CAMGATE_POLICY__INVENTORY": str(inventory), "CAMGATE_POLICY__MOUS": json.dumps([str(tmp_path / "mou")]),
                "CAMGATE_GATEWAY__MAX_PROCESSES": "4",
            }  # fmt: skip
            broker = subprocess.Popen([CAMGATE, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                      stderr=(tmp_path / "broker.log").open("wb"))  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline or broker.poll() is not None:
                        raise SystemExit("the broker did not start:\n" + (tmp_path / "broker.log").read_text()[-2000:])
                    time.sleep(0.2)
                report(counts, args.seconds, camera, url, broker.pid, tmp_path / "data")
            finally:
                broker.terminate()
                broker.wait(timeout=20)


def report(counts: list[int], seconds: float, camera: FakeRtspCamera, url: str, broker_pid: int,
           data_dir: Path) -> None:  # fmt: skip
    direct_url = RtspSource(camera.url("/cam1"), USER, PASSWORD).with_credentials()
    print(f"one RTSP camera: 1280x720 H.264 at {FPS} fps; {seconds:.0f} s measured per row; CPU in % of one core")
    print("new rtsp: RTSP connections the camera accepted for the row (the gateway's may already be open)")
    print(f"{'viewers':>7} {'path':>7} {'served':>7} {'min fps':>7} {'new rtsp':>8} {'broker':>7} {'gateway':>8}"
          f" {'server':>7} {'clients':>8} {'serving/stream':>15} {'total/stream':>13}")  # fmt: skip
    for n in counts:
        rows = {}
        for path in ("broker", "direct"):
            before = camera.clients
            if path == "broker":
                tokens = [dev_token(data_dir, f"viewer-{i:02d}", "ncpd", ["officer"]) for i in range(n)]
                clients = [Client(["-i", f"{url}/api/v1/cameras/saxe-rtsp-01/live.m3u8?access_token={t}"])
                           for t in tokens]  # fmt: skip
            else:
                clients = [Client(["-rtsp_transport", "tcp", "-i", direct_url]) for _ in range(n)]
            try:
                m = measure(clients, seconds, camera, broker_pid if path == "broker" else None, before)
            finally:
                for c in clients:
                    c.stop()
            serving = m.broker + m.gateway + m.server
            rows[path] = (serving / n, (serving + m.clients) / n)
            print(f"{n:>7} {path:>7} {m.served:>4}/{n:<2} {m.min_fps:>7.1f} {m.connections:>8} {m.broker:>6.1f}%"
                  f" {m.gateway:>7.1f}%"
                  f" {m.server:>6.1f}% {m.clients:>7.1f}% {serving / n:>14.2f}% {rows[path][1]:>12.2f}%")  # fmt: skip
            time.sleep(2)
        (bs, bt), (ds, dt) = rows["broker"], rows["direct"]
        print(
            f"{'':>7} ratio broker/direct per stream: serving {bs / max(ds, 1e-9):.2f}, total {bt / max(dt, 1e-9):.2f}"
        )


CAMGATE_FFMPEG = ""

if __name__ == "__main__":
    import imageio_ffmpeg

    CAMGATE_FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
    main()

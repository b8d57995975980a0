"""Proxied HLS segment requests per second vs. the same server returning the bytes from memory.

One broker process serves both: the real segment route (signed token checked, PDP asked again, viewing
session updated, bytes from the shared segment cache filled once from the upstream) and a bench-only route
returning the same 24 KB from memory. 50 keep-alive clients (a lean raw-socket HTTP/1.1 client, so the
load generator is not the bottleneck) alternate between the two; rounds are interleaved.

    .venv/bin/python bench/proxy.py [--clients 50] [--seconds 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from starlette.requests import Request  # module level: FastAPI resolves the route's annotation here

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SEGMENT = 24 * 1024
N_SEGMENTS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_origin(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    segments = [bytes([0x47]) + os.urandom(SEGMENT - 1) for _ in range(N_SEGMENTS)]
    playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n" + "".join(
        f"#EXTINF:10.0,\nseg{i}.ts\n" for i in range(N_SEGMENTS)
    )

    async def index(_request):  # type: ignore[no-untyped-def]
        return Response(playlist, media_type="application/vnd.apple.mpegurl")

    async def segment(request):  # type: ignore[no-untyped-def]
        return Response(segments[int(request.path_params["i"])], media_type="video/mp2t")

    app = Starlette(routes=[Route("/cam/index.m3u8", index), Route("/cam/seg{i:int}.ts", segment)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def run_broker(port: int, origin_port: int, data_dir: str) -> None:
    import uvicorn
    import yaml
    from fastapi import Response

    from broker.api import create_app
    from broker.api.security import public
    from broker.settings import load_settings

    d = Path(data_dir)
    inventory = {
        "agencies": [{"id": "sd", "name": "District", "kind": "school_district"},
                     {"id": "pd", "name": "Police", "kind": "police"}],
        "systems": [{"id": "vms", "owner": "sd", "adapter": "hls", "base_url": f"http://127.0.0.1:{origin_port}/",
                     "live_path": "{ref}/index.m3u8"}],
        "sites": [{"id": "hs", "name": "High School", "owner": "sd", "timezone": "America/New_York"}],
        "cameras": [{"id": "hs-ext-01", "name": "Entrance", "site": "hs", "zone": "exterior", "system": "vms",
                     "ref": "cam"}],
    }  # fmt: skip
    mou = {
        "mou": "sd-pd", "version": 1, "timezone": "America/New_York", "effective": "2020-01-01",
        "parties": {"owner": "sd", "recipients": ["pd"]}, "sites": ["*"], "zones": {"exterior": {}},
        "grants": [{"id": "G1", "clause": "4.1", "agency": "pd", "roles": ["officer"], "zones": ["exterior"],
                    "actions": ["live"], "when": "always"}],
    }  # fmt: skip
    (d / "mou").mkdir(parents=True, exist_ok=True)
    (d / "inventory.yaml").write_text(yaml.safe_dump(inventory))
    (d / "mou" / "sd-pd.yaml").write_text(yaml.safe_dump(mou))
    settings = load_settings(
        mode="dev", data_dir=d, policy={"inventory": d / "inventory.yaml", "mous": [d / "mou"]},
        streams={"token_max_seconds": 600},
    )  # fmt: skip
    app = create_app(settings)
    blob = bytes([0x47]) + os.urandom(SEGMENT - 1)

    @public
    async def memory(request: Request) -> Response:  # as lean as the segment route: no parameter conversion
        return Response(blob, media_type="video/mp2t")

    app.add_api_route("/bench/memory/{i}.ts", memory, methods=["GET"])
    token = app.state.services.dev_issuer.mint("bench", "pd", ["officer"], now=app.state.services.clock.now())
    (d / "token").write_text(token)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, headers: str = "") -> bytes:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length)
    if status != 200:
        raise RuntimeError(f"{path} -> {status}: {body[:200]!r}")
    return body


async def _client(port: int, paths: list[str], stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i, n = 0, 0
    try:
        while time.perf_counter() < stop_at:
            body = await _get(reader, writer, paths[i % len(paths)])
            assert len(body) == SEGMENT
            i, n = i + 1, n + 1
    finally:
        writer.close()
        counts.append(n)


async def _round(port: int, paths: list[str], clients: int, seconds: float) -> float:
    counts: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(*(_client(port, paths, start + seconds, counts) for _ in range(clients)))
    return sum(counts) / (time.perf_counter() - start)


async def _segment_paths(port: int, token: str) -> list[str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = await _get(reader, writer, "/api/v1/cameras/hs-ext-01/live.m3u8", f"Authorization: Bearer {token}\r\n")
    writer.close()
    return [line for line in body.decode().splitlines() if line.startswith("/api/")]


async def measure(port: int, token: str, clients: int, seconds: float, rounds: int) -> None:
    proxied = await _segment_paths(port, token)
    memory = [f"/bench/memory/{i}.ts" for i in range(len(proxied))]
    await _round(port, proxied, clients, 1.0)  # warm: fills the segment cache, opens the session
    await _round(port, memory, clients, 1.0)
    mem_rates, proxy_rates = [], []
    for _ in range(rounds):
        mem_rates.append(await _round(port, memory, clients, seconds))
        proxy_rates.append(await _round(port, await _segment_paths(port, token), clients, seconds))
    mem, prox = sum(mem_rates) / rounds, sum(proxy_rates) / rounds
    print(f"segments: {SEGMENT // 1024} KB, {clients} concurrent keep-alive clients, {rounds} x {seconds:.0f} s each")
    print(f"from memory (same server) : {mem:8.0f} req/s   ({' '.join(f'{r:.0f}' for r in mem_rates)})")
    print(f"proxied segment requests  : {prox:8.0f} req/s   ({' '.join(f'{r:.0f}' for r in proxy_rates)})")
    print(f"ratio proxied/memory: {prox / mem:.2f}   target >= 0.70: {'met' if prox / mem >= 0.7 else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    origin_port, broker_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as data:
        procs = [ctx.Process(target=run_origin, args=(origin_port,), daemon=True),
                 ctx.Process(target=run_broker, args=(broker_port, origin_port, data), daemon=True)]  # fmt: skip
        for p in procs:
            p.start()
        try:
            deadline = time.monotonic() + 60
            while not (Path(data) / "token").exists() or not _listening(broker_port):
                if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                    raise SystemExit("the broker did not start")
                time.sleep(0.1)
            token = (Path(data) / "token").read_text()
            asyncio.run(measure(broker_port, token, args.clients, args.seconds, args.rounds))
        finally:
            for p in procs:
                p.terminate()
                p.join(5)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    main()

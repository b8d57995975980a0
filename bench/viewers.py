"""200 live viewers that fall behind: stream URLs refused as expired with the old token life and with today's.

Issue 13 item 7: at 200 concurrent viewers on 2 cores (playlist p95 3.8 s) 48% of segment requests were refused
"stream token expired" when a segment URL lived two target durations. Two broker processes run the real app
against one live fake upstream (a sliding window of 6 segments of 2 s, 24 KB each, the media sequence moving
with the clock): one with the old rule (``token_min_seconds`` 1, ``token_target_durations`` 2, cap 12 s: 4 s
here), one as shipped (max(60 s, 6 target durations), bounded by the bearer token). Each viewer has its own
identity and keep-alive connection and behaves like a player that falls behind: it reads the live playlist,
then fetches its last three segments one after another, each after up to one target duration (its own pace),
with a stall of 2-8 s in one cycle out of ten (a starved client, a slow network), and starts again. Rounds
alternate between the two brokers (A B B A ...) so both meet the same machine load. Printed per rule: requests,
playlist and segment latency p50/p95, the time from reading a playlist to fetching its last segment (p50/p95/max),
and the segment requests refused as expired; then the baseline ratio.

    .venv/bin/python bench/viewers.py [--viewers 200] [--seconds 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.proxy import SEGMENT, _free_port, _listening

TARGET = 2  # seconds: EXT-X-TARGETDURATION of the fake live camera (the demo's)
WINDOW = 6  # segments in its live playlist
RULES = {
    "old (2 target durations)": {"token_min_seconds": 1, "token_target_durations": 2, "token_max_seconds": 12},
    "new (max(60 s, 6 TD))": {},
}


def run_live_origin(port: int) -> None:
    """A live camera: the playlist lists the last WINDOW segments of the wall clock; every segment exists."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    blob = bytes([0x47]) + os.urandom(SEGMENT - 1)

    async def index(_request: Request) -> Response:
        newest = int(time.time() // TARGET)
        first = newest - WINDOW + 1
        body = f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{TARGET}\n#EXT-X-MEDIA-SEQUENCE:{first}\n" + "".join(
            f"#EXTINF:{TARGET}.0,\nseg{n}.ts\n" for n in range(first, newest + 1)
        )
        return Response(body, media_type="application/vnd.apple.mpegurl")

    async def segment(_request: Request) -> Response:
        return Response(blob, media_type="video/mp2t")

    app = Starlette(routes=[Route("/cam/index.m3u8", index), Route("/cam/seg{n:int}.ts", segment)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def run_broker(port: int, origin_port: int, data_dir: str, streams: dict[str, float], viewers: int) -> None:
    import uvicorn

    from bench.district import write_district
    from broker.api import create_app
    from broker.settings import load_settings

    d = Path(data_dir)
    policy = write_district(d, origin_port, [f"hs-ext-{i:02d}" for i in range(10)])
    settings = load_settings(mode="dev", data_dir=d, policy=policy, streams=streams)
    app = create_app(settings)
    services = app.state.services
    tokens = [
        services.dev_issuer.mint(f"officer-{i}", "pd", ["officer"], now=services.clock.now()) for i in range(viewers)
    ]
    (d / "tokens").write_text("\n".join(tokens))
    # A player keeps its connection through a stall (uvicorn closes idle ones after 5 s by default).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_keep_alive=75)


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, headers: str = ""
) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return int(head.split(b" ", 2)[1]), await reader.readexactly(length)


@dataclass
class Figures:
    playlist: list[float] = field(default_factory=list)
    segment: list[float] = field(default_factory=list)
    behind: list[float] = field(default_factory=list)  # playlist read -> its last segment fetched
    answers: Counter[str] = field(default_factory=Counter)


async def _viewer(port: int, camera: str, token: str, stop_at: float, seed: int, out: Figures) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {token}\r\n"
    try:
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            status, body = await _get(reader, writer, f"/api/v1/cameras/{camera}/live.m3u8", auth)
            out.playlist.append(time.perf_counter() - t)
            out.answers[f"playlist {status}"] += 1
            read = time.perf_counter()
            uris = [line for line in body.decode().splitlines() if line.startswith("/api/")][-3:]
            stall = rng.random() < 0.1
            for i, uri in enumerate(uris):
                await asyncio.sleep(rng.uniform(0, TARGET) + (rng.uniform(2, 8) if stall and i == 1 else 0))
                t = time.perf_counter()
                status, body = await _get(reader, writer, uri)
                out.segment.append(time.perf_counter() - t)
                expired = status == 401 and b'"reason":"expired"' in body
                out.answers["segment expired" if expired else f"segment {status}"] += 1
            out.behind.append(time.perf_counter() - read)
    finally:
        writer.close()


async def _round(port: int, tokens: list[str], seconds: float, out: Figures) -> None:
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(
        *(_viewer(port, f"hs-ext-{i % 10:02d}", token, stop_at, i, out) for i, token in enumerate(tokens))
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def report(rule: str, f: Figures) -> float:
    segments = sum(n for k, n in f.answers.items() if k.startswith("segment"))
    expired = f.answers["segment expired"]
    share = expired / segments if segments else 0.0
    print(f"  {rule}")
    print(f"    requests: {sum(f.answers.values()):,}   answers: {dict(sorted(f.answers.items()))}")
    print(
        f"    playlist p50 {pct(f.playlist, 0.5):.3f} s  p95 {pct(f.playlist, 0.95):.3f} s;"
        f"  segment p50 {pct(f.segment, 0.5):.3f} s  p95 {pct(f.segment, 0.95):.3f} s"
    )
    print(
        f"    playlist read -> last segment fetched: p50 {pct(f.behind, 0.5):.1f} s  p95 {pct(f.behind, 0.95):.1f} s"
        f"  max {max(f.behind, default=0):.1f} s"
    )
    print(f"    segment requests refused as expired: {expired:,} of {segments:,} ({share:.1%})")
    return share


async def measure(brokers: dict[str, tuple[int, list[str]]], seconds: float, rounds: int) -> None:
    figures = {rule: Figures() for rule in brokers}
    order = list(brokers)
    for r in range(rounds):
        for rule in order if r % 2 == 0 else reversed(order):
            port, tokens = brokers[rule]
            await _round(port, tokens, seconds, figures[rule])
    viewers = len(next(iter(brokers.values()))[1])
    print(
        f"{viewers} viewers falling behind, live camera TARGETDURATION {TARGET} s, {rounds} x {seconds:.0f} s per rule"
    )
    shares = {rule: report(rule, f) for rule, f in figures.items()}
    old, new = shares[order[0]], shares[order[1]]
    ratio = f"{old / new:.0f}x fewer" if new else "none with the new rule"
    print(f"expired refusals: old {old:.1%}, new {new:.1%} ({ratio})   target 0: {'met' if new == 0 else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    origin_port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        procs = [ctx.Process(target=run_live_origin, args=(origin_port,), daemon=True)]
        ports: dict[str, tuple[int, Path]] = {}
        for i, (rule, streams) in enumerate(RULES.items()):
            port, folder = _free_port(), Path(data) / f"broker{i}"
            folder.mkdir()
            ports[rule] = (port, folder)
            procs.append(
                ctx.Process(
                    target=run_broker, args=(port, origin_port, str(folder), streams, args.viewers), daemon=True
                )
            )
        for p in procs:
            p.start()
        try:
            deadline = time.monotonic() + 90
            while not all((f / "tokens").exists() and _listening(p) for p, f in ports.values()):
                if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                    raise SystemExit("the brokers did not start")
                time.sleep(0.1)
            brokers = {rule: (port, (f / "tokens").read_text().split("\n")) for rule, (port, f) in ports.items()}
            asyncio.run(measure(brokers, args.seconds, args.rounds))
        finally:
            for p in procs:
                p.terminate()
                p.join(5)


if __name__ == "__main__":
    main()

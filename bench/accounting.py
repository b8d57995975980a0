"""Segment accounting at 200 viewers: answers/s and latency with every answer counted durably (a group-committed
``session.served`` record before it is sent) against the old in-memory counting, in the same run.

Two broker processes run the real app against one fast fake upstream (bench/proxy.py's origin, 24 KB segments):
one as shipped, one whose :class:`SessionTracker` only counts in memory (:class:`InMemorySessions`, defined here,
the accounting as it was before: totals written at ``session.end``). Each of ``viewers`` simulated viewers has its
own identity and keep-alive connection and watches live: a playlist reload, then the next segment, again and again
(an HLS player's steady state: one reload per new segment), as fast as it is answered. Rounds alternate between
the two brokers (A B B A ...) so both meet the same machine load; the ratio is given over all rounds and round by
round. Printed per mode: answers/s, latency p50/p99 per answer (200 viewers always waiting: mostly queueing, by
Little's law about 200 / answers/s), the broker process's CPU time per answer (from /proc: steadier than
answers/s on a shared machine), and afterwards the ``session.served`` records in each log against the answers
the viewers received (durable: equal; in-memory: none). Used by bench/audit.py; runs alone too:

    .venv/bin/python bench/accounting.py [--viewers 200] [--seconds 2] [--rounds 4] [--database-url URL]
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.proxy import SEGMENT, _free_port, _get, _listening, run_origin
from broker.enforcement.sessions import Session, SessionTracker

MODES = ("in-memory", "durable")


class InMemorySessions(SessionTracker):
    """The baseline: an answer is counted in memory only; the totals reach the log with ``session.end``."""

    async def served(self, s: Session, nbytes: int) -> None:
        s.last = self.clock.now()
        s.requests += 1
        s.bytes += nbytes
        s.durable_requests, s.durable_bytes = s.requests, s.bytes  # what session.end writes


def run_broker(port: int, origin_port: int, data_dir: str, mode: str, store: dict[str, str], viewers: int) -> None:
    """A broker child process: ``viewers`` officers (one token each) on ``viewers // 10`` exterior cameras."""
    import uvicorn

    import broker.api.services
    from bench.district import write_district
    from broker.api import create_app
    from broker.settings import load_settings

    if mode == "in-memory":
        broker.api.services.SessionTracker = InMemorySessions  # type: ignore[misc]  # the bench's baseline
    d = Path(data_dir)
    cameras = [f"ext-{i:02d}" for i in range(max(1, viewers // 10))]
    policy = write_district(d, origin_port, cameras)
    settings = load_settings(
        mode="dev",
        data_dir=d,
        policy=policy,
        streams={"token_max_seconds": 600},
        store=store,
    )
    app = create_app(settings)
    services = app.state.services
    issued = [
        {
            "token": services.dev_issuer.mint(f"officer-{i}", "pd", ["officer"], now=services.clock.now()),
            "camera": cameras[i % len(cameras)],
        }
        for i in range(viewers)
    ]
    (d / "viewers.tmp").write_text(json.dumps(issued))
    (d / "viewers.tmp").rename(d / "viewers.json")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass
class Round:
    answers: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0  # the broker process's CPU seconds (user + system) during the round

    @property
    def rate(self) -> float:
        return self.answers / self.seconds


async def _viewer(port: int, viewer: dict[str, str], stop_at: float, latencies: list[float]) -> int:
    """Watch live until ``stop_at``: playlist, next segment, playlist, ... Returns the answers received."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {viewer['token']}\r\n"
    live = f"/api/v1/cameras/{viewer['camera']}/live.m3u8"
    n, i = 0, 0
    clock = time.perf_counter
    try:
        while True:
            began = clock()
            body = await _get(reader, writer, live, auth)
            latencies.append(clock() - began)
            segments = [line for line in body.decode().splitlines() if line.startswith("/api/")]
            began = clock()
            if len(await _get(reader, writer, segments[i % len(segments)])) != SEGMENT:
                raise RuntimeError("a segment came back short")
            latencies.append(clock() - began)
            n, i = n + 2, i + 1
            if began >= stop_at:
                return n
    finally:
        writer.close()


async def _round(port: int, viewers: list[dict[str, str]], seconds: float) -> Round:
    latencies: list[float] = []
    start = time.perf_counter()
    counts = await asyncio.gather(*(_viewer(port, v, start + seconds, latencies) for v in viewers))
    return Round(sum(counts), time.perf_counter() - start, latencies)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Broker:
    mode: str
    port: int
    data: Path
    store: dict[str, str]
    viewers: list[dict[str, str]] = field(default_factory=list)
    answers: int = 0  # every answer its viewers received, warm-up included
    pid: int | None = None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_records(broker: Broker) -> int:
    """``session.served`` records in the broker's audit log."""
    from broker.store import Store
    from broker.store.tables import audit_records

    store = Store.open(
        broker.store.get("url") or f"sqlite:///{broker.data}/camgate.db", schema=broker.store.get("schema")
    )
    try:
        with store.engine.connect() as conn:
            query = select(func.count()).select_from(audit_records).where(audit_records.c.kind == "session.served")
            return int(conn.execute(query).scalar_one())
    finally:
        store.dispose()


async def _measure(brokers: list[Broker], seconds: float, rounds: int) -> dict[str, list[Round]]:
    """Warm both, then ``rounds`` rounds per broker in A B B A order, so that drifting machine load falls on both."""
    results: dict[str, list[Round]] = {b.mode: [] for b in brokers}
    for b in brokers:  # warm: 200 sessions opened (decision + session.start each), caches filled
        b.answers += (await _round(b.port, b.viewers, 1.0)).answers
    for i in range(rounds):
        for b in brokers if i % 2 == 0 else brokers[::-1]:
            cpu = cpu_seconds(b.pid)
            r = await _round(b.port, b.viewers, seconds)
            r.cpu = cpu_seconds(b.pid) - cpu
            b.answers += r.answers
            results[b.mode].append(r)
    return results


def segment_accounting(name: str, url: str | None, viewers: int, seconds: float, rounds: int) -> float | None:
    """Run both brokers on one database kind (``url`` None: a SQLite file each), print the figures; the ratio."""
    ctx = mp.get_context("spawn")
    origin_port = _free_port()
    procs = [ctx.Process(target=run_origin, args=(origin_port,), daemon=True)]
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        brokers = []
        for mode in MODES:
            data = Path(tmp) / mode
            data.mkdir()
            store: dict[str, str] = {}
            if url is not None:
                schemas.append(f"bench_{uuid.uuid4().hex[:12]}")
                store = {"url": url, "schema": schemas[-1]}
            b = Broker(mode, _free_port(), data, store)
            brokers.append(b)
            procs.append(
                ctx.Process(target=run_broker, args=(b.port, origin_port, str(data), mode, store, viewers), daemon=True)
            )
        for p in procs:
            p.start()
        for b, p in zip(brokers, procs[1:], strict=True):
            b.pid = p.pid
        try:
            deadline = time.monotonic() + 60
            for b in brokers:
                while not (b.data / "viewers.json").exists() or not _listening(b.port):
                    if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                        raise SystemExit(f"{name}: the {b.mode} broker did not start")
                    time.sleep(0.1)
                b.viewers = json.loads((b.data / "viewers.json").read_text())
            results = asyncio.run(_measure(brokers, seconds, rounds))
            return _report(name, brokers, results, viewers, seconds, rounds)
        finally:
            for p in procs:
                p.terminate()
                p.join(5)
            _drop(url, schemas)


def _report(
    name: str, brokers: list[Broker], results: dict[str, list[Round]], viewers: int, seconds: float, rounds: int
) -> float:
    n_cameras = max(1, viewers // 10)
    print(
        f"  segment accounting, {viewers} viewers on {n_cameras} cameras ({name}; playlist reload + one"
        f" {SEGMENT // 1024} KB segment per turn, {rounds} x {seconds:g} s per mode, alternated):",
        flush=True,
    )
    rates: dict[str, float] = {}
    for mode in MODES:
        rs = results[mode]
        answers, secs = sum(r.answers for r in rs), sum(r.seconds for r in rs)
        lat = [x for r in rs for x in r.latencies]
        rates[mode] = answers / secs
        cpu = sum(r.cpu for r in rs) / answers * 1e6
        label = {"in-memory": "in-memory counting", "durable": "durable accounting"}[mode]
        print(
            f"    {label:<20} {rates[mode]:8,.0f} answers/s   p50 {percentile(lat, 50) * 1000:5.1f} ms"
            f"   p99 {percentile(lat, 99) * 1000:6.1f} ms   broker CPU {cpu:5.0f} us/answer"
            f"   (rounds: {' '.join(f'{r.rate:,.0f}' for r in rs)})",
            flush=True,
        )
    ratio = rates["durable"] / rates["in-memory"]
    paired = sorted(d.rate / m.rate for m, d in zip(results["in-memory"], results["durable"], strict=True))
    print(
        f"    ratio durable/in-memory {ratio:5.2f}x   (round by round: median {statistics.median(paired):.2f},"
        f" {paired[0]:.2f}-{paired[-1]:.2f})   target >= 0.8: {'met' if ratio >= 0.8 else 'MISSED'}"
    )
    for b in brokers:
        records = served_records(b)
        print(f"    {b.mode} broker: {records:,} session.served records for {b.answers:,} answers received")
    return ratio


def _drop(url: str | None, schemas: list[str]) -> None:
    if url is None or not schemas:
        return
    from broker.store import Store

    store = Store.open(url)
    try:
        with store.engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--database-url", default=os.environ.get("CAMGATE_TEST_DATABASE_URL"))
    args = ap.parse_args(argv)
    segment_accounting("SQLite file", None, args.viewers, args.seconds, args.rounds)
    if args.database_url:
        segment_accounting("PostgreSQL", args.database_url, args.viewers, args.seconds, args.rounds)


if __name__ == "__main__":
    main()

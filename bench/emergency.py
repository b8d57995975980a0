"""Emergency mode at dispatch speed: a panic button's signed event to the first interior playlist, and "all
clear" to the first refused segment, over real HTTP.

Each repetition: a signed ``panic.pressed`` event (Standard Webhooks) is posted to the broker, and a viewer
asks for an interior camera's live playlist until it is served (the time from sending the event to that
200 is the first figure); the viewer takes a segment URL from it; ``panic.cleared`` is posted and the viewer
asks for that segment until it is refused (the second figure: target under one segment-token lifetime).

- one process: one ``camgate serve`` on SQLite (target p99 under 50 ms);
- two processes: two ``camgate serve`` on one PostgreSQL, the event posted to one and the viewer on the
  other (target p99 under 1 s; LISTEN/NOTIFY carries the change).

    .venv/bin/python bench/emergency.py [--repetitions 200] [--no-postgres]
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import yaml

from bench.proxy import _free_port, run_origin
from broker.identity import DevIssuer
from broker.identity.config import DevIssuerConfig
from broker.identity.webhooks import sign

CAMGATE = Path(sys.executable).parent / "camgate"
PG = os.environ.get("CAMGATE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
CAMERA = "hs-int-01"


def write_documents(d: Path, origin_port: int) -> Path:
    inventory = {
        "agencies": [{"id": "sd", "name": "District", "kind": "school_district"},
                     {"id": "pd", "name": "Police", "kind": "police"}],
        "systems": [{"id": "vms", "owner": "sd", "adapter": "hls", "base_url": f"http://127.0.0.1:{origin_port}/",
                     "live_path": "{ref}/index.m3u8", "recording_path": None}],
        "sites": [{"id": "hs", "name": "High School", "owner": "sd", "timezone": "America/New_York"}],
        "cameras": [
            {"id": "hs-ext-01", "name": "Entrance", "site": "hs", "zone": "exterior", "system": "vms", "ref": "cam",
             "location": {"lat": 41.0, "lon": -73.0}},
            {"id": CAMERA, "name": "Front office", "site": "hs", "zone": "interior", "system": "vms", "ref": "cam",
             "location": {"lat": 41.00003, "lon": -73.0}},
        ],
    }  # fmt: skip
    mou = {
        "mou": "sd-pd", "version": 1, "timezone": "America/New_York", "effective": "2020-01-01",
        "parties": {"owner": "sd", "recipients": ["pd"]}, "sites": ["*"],
        "zones": {"exterior": {}, "interior": {"education_records": True}},
        "grants": [{"id": "G2", "clause": "4.2", "agency": "pd", "roles": ["officer"], "zones": ["interior"],
                    "actions": ["live"], "when": "emergency"}],
        "emergency": {"declare": [{"agency": "pd", "roles": ["dispatcher"]}], "default_duration": "60m",
                      "max_duration": "4h", "triggers": ["bench"]},
    }  # fmt: skip
    (d / "mou").mkdir(parents=True, exist_ok=True)
    (d / "inventory.yaml").write_text(yaml.safe_dump(inventory))
    (d / "mou" / "sd-pd.yaml").write_text(yaml.safe_dump(mou))
    config = d / "camgate.toml"
    config.write_text(f"""\
mode = "dev"
data_dir = "{d / "data"}"
[policy]
inventory = "{d / "inventory.yaml"}"
mous = ["{d / "mou"}"]
[streams]
token_max_seconds = 12
[triggers.sources.bench]
agency = "sd"
name = "panic button"
secrets = ["{SECRET}"]
events = {{ "panic.pressed" = "declare", "panic.cleared" = "end" }}
[triggers.sources.bench.devices.panic-1]
name = "front office"
mou = "sd-pd"
site = "hs"
location = {{ lat = 41.00002, lon = -73.0 }}
radius_m = 9.1
""")
    return config


@contextmanager
def broker(config: Path, store_url: str | None, log: Path) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {"CAMGATE_CONFIG": str(config)}
    if store_url:
        env["CAMGATE_STORE__URL"] = store_url
    proc = subprocess.Popen([str(CAMGATE), "serve", "--port", str(port)], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"broker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def event(client: httpx.Client, url: str, kind: str) -> None:
    body = json.dumps({"type": kind, "timestamp": datetime.now(UTC).isoformat(), "data": {"device": "panic-1"}})
    headers = sign(SECRET, f"msg_{uuid.uuid4().hex}", datetime.now(UTC), body.encode())
    r = client.post(
        f"{url}/api/v1/triggers/bench", content=body, headers=headers | {"content-type": "application/json"}
    )
    assert r.is_success, r.text


def until(client: httpx.Client, url: str, status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    deadline = time.perf_counter() + 30
    while True:
        r = client.get(url, headers=headers)
        if r.status_code == status:
            return r
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{url}: still {r.status_code}: {r.text[:200]}")
        time.sleep(0.001)


def run(label: str, trigger_url: str, viewer_url: str, token: str, n: int) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    opened, cut = [], []
    with httpx.Client(timeout=30) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            event(client, trigger_url, "panic.pressed")
            playlist = until(client, f"{viewer_url}/api/v1/cameras/{CAMERA}/live.m3u8", 200, auth)
            opened.append(time.perf_counter() - t0)
            segment = next(line for line in playlist.text.splitlines() if line.startswith("/api/"))
            assert client.get(viewer_url + segment).status_code == 200
            t1 = time.perf_counter()
            event(client, trigger_url, "panic.cleared")
            until(client, viewer_url + segment, 403)
            cut.append(time.perf_counter() - t1)
    qo = statistics.quantiles(opened, n=100, method="inclusive")
    qc = statistics.quantiles(cut, n=100, method="inclusive")
    print(f"{label}: {n} repetitions")
    print(f"  trigger -> first interior playlist: p50 {qo[49] * 1000:7.1f} ms   p99 {qo[98] * 1000:7.1f} ms")
    print(f"  all clear -> first refused segment: p50 {qc[49] * 1000:7.1f} ms   p99 {qc[98] * 1000:7.1f} ms"
          f"   (segment token lifetime 12 s)")  # fmt: skip


@contextmanager
def pg_schema() -> Iterator[str | None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no PostgreSQL here: say so, run the rest
        print(f"PostgreSQL at {make_url(PG).host}: unavailable ({type(exc).__name__}); two-process run skipped")
        yield None
        return
    try:
        yield make_url(PG).update_query_dict({"options": f"-c search_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=200)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="camgate-emergency-"))
    origin_port = _free_port()
    origin = mp.get_context("spawn").Process(target=run_origin, args=(origin_port,), daemon=True)
    origin.start()
    try:
        config = write_documents(work, origin_port)
        token = DevIssuer.load_or_create(work / "data", DevIssuerConfig()).mint(
            "officer-b", "pd", ["officer"], now=datetime.now(UTC)
        )
        with broker(config, None, work / "one.log") as url:
            run("one process (SQLite)", url, url, token, args.repetitions)
        if not args.no_postgres:
            with pg_schema() as store:
                if store is not None:
                    with broker(config, store, work / "a.log") as a, broker(config, store, work / "b.log") as b:
                        run("two processes (PostgreSQL), event to one, viewer on the other", a, b, token,
                            args.repetitions)  # fmt: skip
    finally:
        origin.terminate()


if __name__ == "__main__":
    main()

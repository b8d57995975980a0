"""Loading the documents at 1,000, 10,000 and 50,000 cameras: time and peak memory, so growth is visible.

Each load runs in a fresh process (its peak RSS is its own), on documents written by ``bench/scale.py``
(100 MOUs, 500 grants, two thirds of them ``sites: ["*"]``):

- camgate: read + validate (libyaml events with line marks, pydantic) + compile (casbin bulk load, index);
- naive casbin: the same documents through PyYAML's pure-Python composer (line marks) and pydantic, then
  ``Enforcer.add_policies`` (a duplicate scan of every held line per new line: quadratic); stopped after
  ``--naive-cap`` seconds.

Then, at 10,000 cameras: ``camgate mou validate`` of the 100 MOUs plus the inventory, ``camgate decide`` with
one request, and the broker's start-up to ``/readyz`` (targets: under 2 s each).

    .venv/bin/python bench/load.py [--naive-cap 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import scale

ROOT = Path(__file__).resolve().parents[1]
CAMGATE = Path(sys.executable).parent / "camgate"
SCALES = (1_000, 10_000, 50_000)
ONE_REQUEST = (
    '{"principal": {"sub": "u", "agency": "pd5", "roles": ["officer"]}, "camera": "sd5-s1-c0", "action": "live",'
    ' "at": "2026-09-14T15:00:00Z"}\n'
)


def child(kind: str, inventory: Path, mous: Path) -> None:
    """Runs in the measured process: load, then print seconds, RSS before loading and peak RSS (KiB)."""
    import yaml

    from broker.documents.inventory import Inventory
    from broker.documents.loader import mou_files
    from broker.documents.mou import Mou
    from broker.documents.yamlsrc import Located, _walk
    from broker.inventory.catalog import Catalog
    from broker.policy.compile import policy_lines

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    if kind == "camgate":
        catalog = Catalog.load(inventory, [mous], ROOT / "policies" / "model.conf")
        lines = catalog.pdp.policy.lines
    else:
        import casbin
        from casbin import model as casbin_model

        def located(path: Path) -> object:
            loader = yaml.SafeLoader(path.read_text())  # the pure-Python composer, with marks
            node = loader.get_single_node()
            out = Located(loader.construct_document(node))
            _walk(node, (), out)
            return out.data

        inv = Inventory.model_validate(located(inventory))
        docs = [Mou.model_validate(located(p)) for p in mou_files([mous])]
        m = casbin_model.Model()
        m.load_model_from_text((ROOT / "policies" / "model.conf").read_text())
        enforcer = casbin.Enforcer(m)
        rules = policy_lines(docs, inv)
        enforcer.add_policies(rules)
        lines = len(rules)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_before_kib": before, "peak_kib": peak, "lines": lines}))


def measure(kind: str, inventory: Path, mous: Path, cap: float | None = None) -> dict[str, float] | None:
    cmd = [sys.executable, __file__, "--child", kind, str(inventory), str(mous)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(cmd: list[str], **kw: object) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - t


def startup_to_readyz(inventory: Path, mous: Path, work: Path) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {"CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(work / "data"),
                        "CAMGATE_POLICY__INVENTORY": str(inventory), "CAMGATE_POLICY__MOUS": json.dumps([str(mous)])}  # fmt: skip
    t = time.perf_counter()
    proc = subprocess.Popen([str(CAMGATE), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - t
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.perf_counter() - t > 120:
                raise RuntimeError("the broker did not become ready")
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def mib(kib: float) -> str:
    return f"{kib / 1024:7.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--naive-cap", type=float, default=60.0, help="stop a naive load after this many seconds")
    ap.add_argument("--child", nargs=3, metavar=("KIND", "INVENTORY", "MOUS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    work = Path(tempfile.mkdtemp(prefix="camgate-load-"))
    print(f"documents: 100 MOUs, 500 grants, 2/3 with sites: ['*'] (bench/scale.py), in {work}")
    print(f"{'cameras':>8} {'lines':>8} | {'camgate load':>12} {'peak RSS':>12} {'(+ over start)':>14} | "
          f"{'naive casbin':>12} {'peak RSS':>12} | ratio")  # fmt: skip
    ten = None
    for n in SCALES:
        inventory, mous = scale.write(work / str(n), n)
        if n == 10_000:
            ten = (inventory, mous)
        ours = measure("camgate", inventory, mous)
        assert ours is not None
        naive = measure("naive", inventory, mous, cap=args.naive_cap)
        grown = mib(ours["peak_kib"] - ours["rss_before_kib"])
        left = f"{n:>8,} {ours['lines']:>8,} | {ours['seconds']:>10.2f} s {mib(ours['peak_kib'])} {grown:>14} | "
        if naive is None:
            print(left + f"{'> ' + format(args.naive_cap, '.0f') + ' s':>12} {'(stopped)':>12} |  > "
                  f"{args.naive_cap / ours['seconds']:.0f}x")  # fmt: skip
        else:
            print(left + f"{naive['seconds']:>10.2f} s {mib(naive['peak_kib'])} | "
                  f"{naive['seconds'] / ours['seconds']:5.0f}x")  # fmt: skip
    assert ten is not None
    inventory, mous = ten
    validate = timed([str(CAMGATE), "mou", "validate", str(mous), "--inventory", str(inventory)])
    decide = timed(
        [str(CAMGATE), "decide", "--inventory", str(inventory), "--mou", str(mous)], input=ONE_REQUEST.encode()
    )
    ready = startup_to_readyz(inventory, mous, work)
    print("at 10,000 cameras (each a new process, interpreter start included; target < 2 s each):")
    print(f"  camgate mou validate (100 MOUs + inventory) {validate:6.2f} s")
    print(f"  camgate decide, one request                {decide:6.2f} s")
    print(f"  broker start-up to /readyz                 {ready:6.2f} s")


if __name__ == "__main__":
    main()

"""The example district for the rigs: the simulated VMS (live H.264, in this process) and a real ``camgate serve``
process on a data folder the test chooses (a small tmpfs), with its configuration in the environment.

``Rig.start()`` starts the broker (again after a kill, on the same store); ``Rig.kill()`` is ``kill -9``.
:func:`served_tallies` reads what the audit chain says each viewer was served, for comparison with the counting
proxy: per session its ``session.served`` records, newest totals last.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from broker.audit import AuditLog
from broker.audit.records import AuditRecord
from broker.clock import SystemClock
from broker.store import Store
from tests.brokers import CAMGATE, Broker, dev_token, free_port
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS
from tests.waiting import wait_for

CAMERA = "saxe-ext-01"  # exterior: an officer may watch it without an emergency
LIVE = f"/api/v1/cameras/{CAMERA}/live.m3u8"
START_TIMEOUT = 60.0


def write_documents(folder: Path, vms_base: str) -> dict[str, str]:
    """The example inventory with every system on the simulated VMS, and the MOUs; returns their settings."""
    inv = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    for system in inv["systems"]:
        system["base_url"] = vms_base
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inventory.yaml").write_text(yaml.safe_dump(inv))
    if not (folder / "mou").exists():
        shutil.copytree(EXAMPLE_MOUS, folder / "mou")
    return {
        "CAMGATE_POLICY__INVENTORY": str(folder / "inventory.yaml"),
        "CAMGATE_POLICY__MOUS": json.dumps([str(folder / "mou")]),
    }


@dataclass
class Rig:
    """A broker process on ``data_dir`` with ``env`` (documents and settings); ``tmp_path`` holds its logs."""

    tmp_path: Path
    data_dir: Path
    env: dict[str, str]
    broker: Broker | None = None
    started: list[Broker] = field(default_factory=list)

    @property
    def full_env(self) -> dict[str, str]:
        return os.environ | {"CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(self.data_dir)} | self.env

    @property
    def url(self) -> str:
        assert self.broker is not None
        return self.broker.url

    def start(self) -> Broker:
        broker = Broker(self.full_env, free_port(), self.tmp_path / f"broker-{len(self.started)}.log")
        self.started.append(broker)
        self.broker = broker
        wait_for(lambda: broker.ready() is not None, START_TIMEOUT, "the broker to be ready")
        return broker

    def kill(self) -> None:
        """``kill -9``: no shutdown, no session end, nothing flushed."""
        assert self.broker is not None
        self.broker.proc.kill()
        self.broker.proc.wait(timeout=10)

    def stop(self) -> None:
        for broker in self.started:
            if broker.proc.poll() is None:
                broker.stop()

    def token(self, sub: str, roles: tuple[str, ...] = ("officer",), agency: str = "ncpd") -> str:
        return dev_token(self.data_dir, sub, agency, list(roles))

    def get(self, path: str, token: str, timeout: float = 10.0) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def readyz(self, timeout: float = 5.0) -> httpx.Response:
        return httpx.get(f"{self.url}/readyz", timeout=timeout)

    def log(self) -> str:
        return "".join(b.log.read_text(errors="replace") for b in self.started if b.log.exists())

    def verify_cli(self) -> dict[str, Any]:
        """``camgate audit verify`` on the broker's store, as an operator runs it."""
        done = subprocess.run(
            [CAMGATE, "audit", "verify", "--json"], env=self.full_env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    @property
    def database_url(self) -> str:
        return self.env.get("CAMGATE_STORE__URL") or f"sqlite:///{self.data_dir / 'camgate.db'}"

    def records(self, kind: str, principal: str | None = None) -> list[AuditRecord]:
        return read_records(self.database_url, kind, principal)


def read_records(url: str, kind: str, principal: str | None = None) -> list[AuditRecord]:
    store = Store.open(url)
    try:
        audit, out, after = AuditLog(store, SystemClock()), [], None
        while True:
            page, after = audit.query(kind=kind, principal=principal, after_seq=after, limit=1000)
            out.extend(page)
            if after is None:
                return out
    finally:
        store.dispose()


@dataclass
class Tally:
    """What the chain says one principal was served: per session, its ``session.served`` totals in seq order."""

    sessions: dict[str, list[tuple[int, int]]]  # session id -> [(requests, bytes), ...]

    @property
    def requests(self) -> int:
        return sum(max(r for r, _ in totals) for totals in self.sessions.values())

    @property
    def bytes(self) -> int:
        return sum(max(b for _, b in totals) for totals in self.sessions.values())

    def answer_sizes(self) -> tuple[Counter[int], int]:
        """The size of each answer counted one at a time, and how many answers were counted in a step of several
        (a record that failed in between: its answer was never sent)."""
        sizes: Counter[int] = Counter()
        lumped = 0
        for totals in self.sessions.values():
            previous = (0, 0)
            for requests, nbytes in totals:
                step = requests - previous[0]
                if step == 1:
                    sizes[nbytes - previous[1]] += 1
                elif step > 1:
                    lumped += step
                previous = (requests, nbytes)
        return sizes, lumped


def served_tallies(url: str) -> dict[str, Tally]:
    """principal -> :class:`Tally`, from every ``session.served`` record of the chain at ``url``."""
    tallies: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for rec in read_records(url, "session.served"):
        session = str(rec.details["session"])
        totals = (int(rec.details["requests"]), int(rec.details["bytes"]))
        tallies.setdefault(rec.principal_sub or "", {}).setdefault(session, []).append(totals)
    return {sub: Tally(sessions) for sub, sessions in tallies.items()}


def assert_nothing_unrecorded(tally: Tally | None, received_sizes: list[int]) -> int:
    """Every answer a viewer received has its record: the count and bytes on the chain are at least what was
    received, and each received answer's size is one the chain counted. Returns the surplus (answers recorded but
    not delivered)."""
    assert tally is not None or not received_sizes, f"{len(received_sizes)} answers received, none recorded"
    if tally is None:
        return 0
    assert tally.requests >= len(received_sizes), (tally.requests, len(received_sizes))
    assert tally.bytes >= sum(received_sizes), (tally.bytes, sum(received_sizes))
    sizes, lumped = tally.answer_sizes()
    unmatched = Counter(received_sizes) - sizes
    assert sum(unmatched.values()) <= lumped, f"answers received without a record of their size: {unmatched}"
    return tally.requests - len(received_sizes)

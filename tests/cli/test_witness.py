"""Witnesses end to end: checkpoints queued in the outbox, delivered by the dispatcher over real HTTP on 127.0.0.1 to
``camgate audit witness``'s receiver, checked and kept; forged or malformed deliveries refused, a rollback flagged.
The outbox runs on SQLite and, with CAMGATE_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit import AuditLog
from broker.audit.bindings import verify_bindings
from broker.audit.checkpoints import Checkpoint, key_id, public_key_text, sign
from broker.audit.witness import WitnessDir
from broker.cli.witness import make_server
from broker.clock import FakeClock, SystemClock
from broker.identity.webhooks import sign as sign_webhook
from broker.notify.config import NotificationSettings, Webhook
from broker.notify.dispatcher import Dispatcher
from broker.notify.witnesses import checkpoint_body, notify_witnesses
from broker.store import Store
from broker.store.outbox import DELIVERED, OutboxRepository
from tests.fakes.webhooks import new_secret
from tests.paths import REPO
from tests.waiting import wait_for

KEY = Ed25519PrivateKey.generate()
PUBLIC = public_key_text(KEY.public_key())
T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


@dataclass
class Receiver:
    url: str
    dir: Path
    secret: str

    def files(self) -> list[str]:
        return sorted(p.name for p in self.dir.glob("*.json"))

    def post(self, body: bytes, secret: str | None = None) -> httpx.Response:
        headers = sign_webhook(secret or self.secret, "msg_test", SystemClock().now(), body)
        return httpx.post(self.url, content=body, headers=headers | {"content-type": "application/json"})


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    secret = new_secret()
    server = make_server(WitnessDir(tmp_path / "witness"), secret, "127.0.0.1", 0, SystemClock())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/camgate", tmp_path / "witness", secret)
    finally:
        server.shutdown()
        server.server_close()


def checkpoint_of(audit: AuditLog, previous: Checkpoint | None) -> Checkpoint:
    """A checkpoint of the chain as it stands, as the signer makes them."""
    result = audit.verify()
    unsigned = Checkpoint(
        records=result.records,
        head=result.head,
        ts=T0,
        key_id=key_id(KEY.public_key()),
        previous=previous.id if previous else None,
    )
    return sign(unsigned, KEY)


def deliver(dispatcher: Dispatcher) -> int:
    async def once() -> int:
        try:
            return await dispatcher.deliver_due()
        finally:
            await dispatcher.aclose()

    return asyncio.run(once())


def test_checkpoints_go_from_the_outbox_to_the_witness_and_a_rollback_is_flagged(
    database_url: str, receiver: Receiver
) -> None:
    store = Store.open(database_url)
    store.create_all()
    clock = FakeClock(T0)
    audit, outbox = AuditLog(store, clock), OutboxRepository(store)
    school = Webhook("witness-school", "ncps", receiver.url, receiver.secret, frozenset(), frozenset(), frozenset())
    dispatcher = Dispatcher(outbox, audit, [school], NotificationSettings(), clock, wall=SystemClock())
    try:
        for _ in range(3):
            audit.append("decision", allowed=True)
        first = checkpoint_of(audit, None)
        assert notify_witnesses(outbox, [school], first, now=clock.now(), public_key=PUBLIC) == 1
        assert notify_witnesses(outbox, [school], first, now=clock.now()) == 0  # the same checkpoint: one notice
        assert deliver(dispatcher) == 1
        assert receiver.files() == [f"3-{first.id}.json"]
        assert json.loads((receiver.dir / f"3-{first.id}.json").read_text()) == first.to_dict()

        audit.append("decision", allowed=False)
        second = checkpoint_of(audit, first)  # (the first delivery's notice.attempt and .delivered count too)
        notify_witnesses(outbox, [school], second, now=clock.now(), public_key=PUBLIC)
        assert deliver(dispatcher) == 1
        assert WitnessDir(receiver.dir).report()["ok"]
        assert {n.state for n in outbox.list()} == {DELIVERED}
        assert verify_bindings(store) == []  # each notice bound to its checkpoint's head record

        # The operator cuts the log back and re-signs from the first checkpoint: the witness keeps it, flagged.
        rolled = sign(Checkpoint(records=4, head="e" * 64, ts=T0, key_id=first.key_id, previous=first.id), KEY)
        notify_witnesses(outbox, [school], rolled, now=clock.now(), public_key=PUBLIC)
        assert deliver(dispatcher) == 1
        assert f"4-{rolled.id}.json" in receiver.files()
        report = WitnessDir(receiver.dir).report()
        assert not report["ok"] and {(f["records"], f["code"]) for f in report["flags"]} >= {(4, "rollback")}
        delivered = [r.details["notice"] for r in audit.query(kind="notice.delivered")[0]]
        assert len(delivered) == 3 and audit.verify().ok
    finally:
        store.dispose()


def test_a_forged_delivery_is_401_and_nothing_is_stored(receiver: Receiver) -> None:
    body = checkpoint_body("msg_x", sign(Checkpoint(1, "a" * 64, T0, key_id(KEY.public_key())), KEY), T0).encode()
    r = receiver.post(body, secret=new_secret())
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature", r.text
    assert httpx.post(receiver.url, content=body).status_code == 401  # unsigned
    assert receiver.files() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b'{"type": "audit.checkpoint", "data": []}', "data"),
        (b'{"type": "emergency.declare", "data": {}}', "type"),
        (b'{"type": "audit.checkpoint", "data": {"v": 1, "kind": "checkpoint", "records": -1}}', "data.records"),
    ],
)
def test_a_malformed_notice_is_400_naming_the_field(receiver: Receiver, body: bytes, field: str) -> None:
    r = receiver.post(body)
    assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert receiver.files() == []


def test_a_key_id_that_is_a_path_is_400_and_nothing_outside_is_read(receiver: Receiver, tmp_path: Path) -> None:
    """Was: ``DIR/keys/<key_id>.pub`` read with the key_id as sent, so "../../x" told whether tmp/x.pub exists
    (400 or 200), a file that is not UTF-8 broke the request, and a checkpoint with no key known was stored."""
    (tmp_path / "probe.pub").write_bytes(b"\xff\xfe not text")
    cp = sign(Checkpoint(records=1, head="a" * 64, ts=datetime.now(UTC), key_id=key_id(KEY.public_key())), KEY)
    data = {k: v for k, v in cp.to_dict().items() if k != "id"} | {"key_id": "../../probe"}
    r = receiver.post(json.dumps({"type": "audit.checkpoint", "data": data}).encode())
    assert r.status_code == 400 and r.json()["field"] == "data.key_id", r.text
    assert receiver.files() == []


def test_the_command_receives_and_checks(tmp_path: Path) -> None:
    secret = new_secret()
    (tmp_path / "secret").write_text(secret + "\n")
    witness_dir = tmp_path / "held"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "broker.cli.main", "audit", "witness", "--dir", str(witness_dir)]
    process = subprocess.Popen(
        [*command, "--secret-file", str(tmp_path / "secret"), "--port", "0"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # "... listening on http://127.0.0.1:PORT/"
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), line
        cp = sign(Checkpoint(7, "b" * 64, T0, key_id(KEY.public_key())), KEY)
        body = checkpoint_body("msg_cli", cp, T0, PUBLIC).encode()
        headers = sign_webhook(secret, "msg_cli", SystemClock().now(), body)
        r = httpx.post(url, content=body, headers=headers)
        assert r.status_code == 200 and r.json()["stored"] == f"7-{cp.id}.json", r.text
        wait_for(lambda: (witness_dir / f"7-{cp.id}.json").exists(), 5, "the checkpoint file")
    finally:
        process.terminate()
        process.wait(10)
    checked = subprocess.run(
        [*command[:5], "check", "--dir", str(witness_dir)], env=env, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert (report["checkpoints"], report["latest"]["records"], report["keys"]) == (1, 7, [cp.key_id])

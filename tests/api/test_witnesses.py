"""audit.witnesses wired into the broker: the notifier a checkpoint signer calls queues each checkpoint for every
witness, and the broker's dispatcher delivers it to ``camgate audit witness``'s receiver over 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit.checkpoints import Checkpoint, key_id, sign
from broker.audit.witness import WitnessDir
from broker.cli.witness import make_server
from broker.clock import SystemClock
from broker.errors import StoreUnavailable
from tests.api.support import Api
from tests.fakes.webhooks import new_secret

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]


def test_the_signer_listener_queues_checkpoints_that_the_dispatcher_delivers(
    make_api: MakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = new_secret()
    monkeypatch.setenv("WITNESS_SECRET", secret)
    server = make_server(WitnessDir(tmp_path / "held"), secret, "127.0.0.1", 0, SystemClock())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    witness = {"name": "ncpd", "agency": "ncpd", "url": url, "secret_env": "WITNESS_SECRET"}
    try:
        with make_api(audit={"witnesses": [witness]}) as api:
            notifier, dispatcher = api.services.witnesses, api.services.dispatcher
            assert notifier is not None and dispatcher is not None  # no emergency webhook needed for witnesses
            dispatcher.wall = SystemClock()
            api.declared()
            key = Ed25519PrivateKey.generate()
            result = api.services.audit.verify()
            cp = sign(Checkpoint(result.records, result.head, api.clock.now(), key_id(key.public_key())), key)
            notifier(cp)  # as the signer calls its listeners

            async def deliver() -> int:
                try:
                    return await dispatcher.deliver_due()
                finally:
                    await dispatcher.aclose()

            assert asyncio.run(deliver()) == 1
            assert (tmp_path / "held" / f"{cp.records}-{cp.id}.json").exists()
            (attempt,) = api.audit(kind="notice.attempt")
            assert attempt["details"]["kind"] == "audit.checkpoint" and attempt["emergency"] is None
            body = api.get("/api/v1/audit/verify", as_="auditor").json()
            assert body["ok"] and body["bindings_ok"], body

            def broken(*args: object, **kw: object) -> int:
                raise StoreUnavailable("the outbox is down")

            notifier.outbox.add = broken  # type: ignore[method-assign]
            notifier(cp)  # logged: the signer goes on
    finally:
        server.shutdown()
        server.server_close()

"""A webhook receiver over real HTTP on 127.0.0.1 that checks Standard Webhooks signatures and records deliveries.

Each delivery is verified with ``standardwebhooks.Webhook.verify`` against the receiver's secret (the check
a school office's receiver would run), and kept with its headers and raw body. ``status`` forces an answer
(500 for a broken receiver); ``delay`` makes it slow.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: Any


class WebhookReceiver:
    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret or new_secret()
        self.status = 200
        self.delay = 0.0
        self.deliveries: list[Delivery] = []
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests += 1
                    status, delay = receiver.status, receiver.delay
                if delay:
                    time.sleep(delay)
                if status == 200:
                    try:
                        payload = Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        payload, verified = None, False
                    with receiver._lock:
                        receiver.deliveries.append(Delivery(headers, body, verified, payload))
                self.send_response(status if status != 200 or verified else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/camgate"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def verified(self) -> list[Any]:
        with self._lock:
            return [d.payload for d in self.deliveries if d.verified]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def second_receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()

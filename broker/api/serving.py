"""Running the app under uvicorn so that it stops when asked (``camgate serve`` and ``camgate demo``).

uvicorn stops in three steps: it stops accepting, waits for every open answer to finish (with no limit unless
``timeout_graceful_shutdown`` is set), then runs the app's lifespan shutdown. The event streams
(``GET /api/v1/events``, one per open console page) never finish by themselves, and the broker ended them only in
its lifespan shutdown: with a console open, Ctrl-C on ``make demo`` (or the SIGTERM of ``docker stop``) waited
for ever, until a second signal or SIGKILL skipped the shutdown (viewing sessions' end records, notice leases).
Here the streams end as soon as the stop begins; EventSource reconnects to whichever broker is up.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

STARTUP_FAILURE = 3  # uvicorn's exit status when the server never started (e.g. its port was taken)


class StoppingServer(uvicorn.Server):
    """uvicorn's server; ``on_stop`` runs on the event loop when the stop begins, before open answers are
    awaited."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_stop()
        await super().shutdown(sockets=sockets)


def run(app: FastAPI, **options: Any) -> int:
    """``uvicorn.run(app, **options)``, with the broker's event streams ended at the start of a stop."""
    server = StoppingServer(uvicorn.Config(app, **options), app.state.services.events.close_all)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: uvicorn's forced exit
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
    return 0

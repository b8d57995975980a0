"""The container's health check: ``GET /readyz`` on the address the broker is configured to listen on.

``python -m broker.cli.healthcheck`` (the Dockerfile's ``HEALTHCHECK``) reads the same settings as
``camgate serve`` (``CAMGATE_CONFIG`` and ``CAMGATE_*``), so a broker moved off port 8080 with
``CAMGATE_SERVER__PORT`` or ``[server] port`` is still checked where it listens. Exit status 0 when the broker
answers 200, else 1 (Docker's "unhealthy"), with the reason on standard error.
"""

from __future__ import annotations

import sys

import httpx

from broker.errors import CamgateError
from broker.settings import Settings, load_settings

TIMEOUT_SECONDS = 2.5  # under the HEALTHCHECK's --timeout=3s


def readyz_url(settings: Settings) -> str:
    """``http://HOST:PORT/readyz``; a wildcard listen address is checked on the loopback interface."""
    host = settings.server.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"  # RFC 3986 §3.2.2: an IPv6 literal in brackets
    return f"http://{host}:{settings.server.port}/readyz"


def main() -> int:
    try:
        url = readyz_url(load_settings())
    except (CamgateError, ValueError) as exc:
        print(f"healthcheck: settings refused: {exc}", file=sys.stderr)
        return 1
    try:
        answer = httpx.get(url, timeout=TIMEOUT_SECONDS, trust_env=False)  # never through a proxy
    except httpx.HTTPError as exc:
        print(f"healthcheck: no answer from {url}: {exc}", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"healthcheck: {url} answered {answer.status_code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

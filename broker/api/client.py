"""The client address a request is recorded under (the audit records' ``client``)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request


def client_address(request: Request, trusted_proxies: Collection[str]) -> str | None:
    """The peer's address; X-Forwarded-For's first address only when the peer is a configured proxy."""
    peer = request.client.host if request.client else None
    if peer and peer in trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        return first or peer
    return peer

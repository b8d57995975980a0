"""The client address a request is recorded under (the audit records' ``client``)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request

MAX_ADDRESS = 64  # an IPv6 address with a zone fits; anything longer is not an address


def client_address(request: Request, trusted_proxies: Collection[str]) -> str | None:
    """The peer's address, or, when the peer is a configured proxy, the nearest X-Forwarded-For hop that is not.

    Proxies *append* the address they received from (nginx ``$proxy_add_x_forwarded_for``), so only the
    right-hand end of the list was written by trusted parties: the leftmost entry is whatever the client
    sent (RFC 7239 §5.2 and §8.1 warn of the same for ``Forwarded``). Walk from the right past the trusted
    proxies; the first other entry is the client.
    """
    peer = request.client.host if request.client else None
    if not peer or peer not in trusted_proxies:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    hops = [h for h in hops if h]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop[:MAX_ADDRESS]
    return hops[0][:MAX_ADDRESS] if hops else peer

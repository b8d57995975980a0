"""``camgate serve`` records the peer's address, not an X-Forwarded-For the peer wrote (server.trusted_proxies).

uvicorn, by default, believes X-Forwarded-For from 127.0.0.1 (``proxy_headers``, ``forwarded_allow_ips``) and
rewrites the request's client before the broker sees it: with no proxy configured, any local process (or a
proxy on the host that passes the header through) chose the ``client`` of every audit record, refusals too.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.brokers import Brokers, dev_token


@pytest.mark.parametrize(
    ("proxies", "client"),
    [("[]", "127.0.0.1"), ('["127.0.0.1"]', "203.0.113.66")],
    ids=["no proxy: the peer", "the peer is a configured proxy: its X-Forwarded-For"],
)
def test_the_client_is_the_peer_unless_it_is_a_configured_proxy(tmp_path: Path, proxies: str, client: str) -> None:
    brokers = Brokers(tmp_path)
    try:
        broker = brokers.start(CAMGATE_SERVER__TRUSTED_PROXIES=proxies)
        officer = dev_token(tmp_path / "data", "officer-kim", "ncpd", ["officer"])
        auditor = dev_token(tmp_path / "data", "ia-ncpd", "ncpd", ["auditor"])  # reads its officers' records
        r = httpx.get(
            f"{broker.url}/api/v1/cameras",
            headers={"Authorization": f"Bearer {officer}", "X-Forwarded-For": "203.0.113.66"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        records = httpx.get(
            f"{broker.url}/api/v1/audit",
            params={"kind": "cameras.list"},
            headers={"Authorization": f"Bearer {auditor}"},
            timeout=10,
        ).json()["records"]
        assert [rec["client"] for rec in records] == [client]
    finally:
        brokers.close()

"""``camgate serve`` records the peer's address, not an X-Forwarded-For the peer wrote (server.trusted_proxies).

uvicorn, by default, believes X-Forwarded-For from 127.0.0.1 (``proxy_headers``, ``forwarded_allow_ips``) and
rewrites the request's client before the broker sees it: with no proxy configured, any local process (or a
proxy on the host that passes the header through) chose the ``client`` of every audit record, refusals too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.brokers import Broker, Brokers, dev_token


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    brokers = Brokers(tmp_path)
    yield brokers.start()
    brokers.close()


def test_a_forwarded_for_header_from_an_untrusted_peer_is_not_the_client(broker: Broker, tmp_path: Path) -> None:
    officer = dev_token(tmp_path / "data", "officer-kim", "ncpd", ["officer"])
    auditor = dev_token(tmp_path / "data", "auditor-ray", "ncps", ["auditor"])
    r = httpx.get(
        f"{broker.url}/api/v1/cameras",
        headers={"Authorization": f"Bearer {officer}", "X-Forwarded-For": "203.0.113.66"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    records = httpx.get(
        f"{broker.url}/api/v1/audit", params={"kind": "cameras.list"}, headers={"Authorization": f"Bearer {auditor}"}
    ).json()["records"]
    assert [rec["client"] for rec in records] == ["127.0.0.1"]

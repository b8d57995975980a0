"""``camgate serve`` writes no credential to its logs (issue 13 item 15): players that cannot send headers put the
bearer token in ``?access_token=``, and uvicorn's access log printed the whole request line, token included."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.brokers import Brokers, dev_token


def _requests(url: str, officer: str, forged: str) -> None:
    """Requests carrying both tokens in the query string and a header: allowed, refused and unrouted."""
    for path in ("/api/v1/cameras", "/api/v1/cameras/saxe-int-01/live.m3u8", "/healthz", "/no/such/route"):
        for token in (officer, forged):
            httpx.get(f"{url}{path}?access_token={token}&start=x", timeout=30)
    httpx.get(f"{url}/api/v1/cameras", headers={"Authorization": f"Bearer {forged}"}, timeout=30)


def test_no_token_in_any_log_line_and_the_access_log_still_there(tmp_path: Path) -> None:
    brokers = Brokers(tmp_path)
    try:
        broker = brokers.start()
        officer = dev_token(brokers.data_dir, f"officer-{secrets.token_hex(8)}", "ncpd", ["officer"])
        forged = f"eyJ{secrets.token_urlsafe(12)}.{secrets.token_urlsafe(40)}.{secrets.token_urlsafe(20)}"
        _requests(broker.url, officer, forged)
    finally:
        brokers.close()
    log = broker.log.read_text()  # the process's stdout (access log) and stderr (everything else)
    refused = '"GET /api/v1/cameras/saxe-int-01/live.m3u8?access_token=[redacted]&start=[redacted] HTTP/1.1" 403'
    assert refused in log, log[-3000:]  # the officer's token was read (403: an interior camera) and not logged
    for secret in (officer, forged, officer.split(".")[1], officer.split(".")[2], forged.split(".")[1]):
        assert secret not in log


def test_the_access_log_can_be_turned_off(tmp_path: Path) -> None:
    brokers = Brokers(tmp_path)
    try:
        broker = brokers.start(CAMGATE_SERVER__ACCESS_LOG="false")
        officer = dev_token(brokers.data_dir, "officer-kim", "ncpd", ["officer"])
        r = httpx.get(f"{broker.url}/api/v1/cameras", headers={"Authorization": f"Bearer {officer}"}, timeout=30)
        assert r.status_code == 200
    finally:
        brokers.close()
    log = broker.log.read_text()
    assert "GET /api/v1/cameras" not in log and "GET /readyz" not in log

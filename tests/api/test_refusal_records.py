"""Refused requests on the audit chain, counted per client, reason and minute, in bounded size (CJIS 5.4.1.1).

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import text

from broker.identity.webhooks import sign
from tests.api.support import ACTORS, Api, stored_emergencies

HUGE = "x" * 8000
MB = 1 << 20


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def refusals(api: Api, kind: str) -> list[dict[str, Any]]:
    return api.audit(kind=kind)


def counted(records: list[dict[str, Any]]) -> int:
    return sum(r["details"]["count"] for r in records)


def minute_over(api: Api) -> None:
    """The minute ends and housekeeping runs: the rest of the minute's refusals are written."""
    api.clock.advance(60)
    api.services.tick()


def audit_bytes(api: Api) -> int:
    """What the audit records take, every column as JSON."""
    with api.services.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_records")).mappings().all()
    return sum(len(json.dumps(dict(row), default=str)) for row in rows)


def flood(api: Api, requests: list[tuple[str, str, dict[str, str], bytes]]) -> list[httpx.Response]:
    """Many requests in one event loop straight to the running app (TestClient costs a thread hop each)."""

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [await client.request(m, path, headers=h, content=body) for m, path, h, body in requests]

    return anyio.run(send_all)


def forged(api: Api, sub: str = "officer-17") -> str:
    """A dev-issuer token claiming ``sub`` whose signature does not verify."""
    token = api.mint(sub, "ncpd", ["officer"])
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


# -- who was refused, and why --------------------------------------------------------------------------------


def test_a_missing_token_is_recorded_at_once_then_counted_for_the_minute(api: Api) -> None:
    for _ in range(3):
        assert api.get("/api/v1/cameras", as_=None).status_code == 401
    (first,) = refusals(api, "auth.refused")
    assert (first["reason"], first["allowed"], first["principal_sub"], first["client"]) == (
        "no_credentials",
        False,
        None,
        "testclient",
    )
    assert first["details"]["count"] == 1
    assert first["details"]["sample"] == {"method": "GET", "path": "/api/v1/cameras"}
    assert first["details"]["messages"] == {"no bearer token": 1}
    minute_over(api)
    records = refusals(api, "auth.refused")
    assert [r["details"]["count"] for r in records] == [1, 2]
    assert records[1]["details"]["first"] <= records[1]["details"]["last"]
    assert records[1]["details"]["window"] == first["details"]["window"]
    assert api.services.refusals is not None and api.services.refusals.counter.pending() == 0


def test_each_way_of_failing_authentication_has_its_reason(api: Api) -> None:
    bad = {
        "no_credentials": {},
        "bad_scheme": {"Authorization": "Basic b2ZmaWNlcjpwYXNzd29yZA=="},
        "invalid_token": {"Authorization": f"Bearer {forged(api)}"},
        "session_ended": {"Cookie": "camgate_session=no-such-session"},
    }
    for headers in bad.values():
        assert api.get("/api/v1/emergencies", as_=None, headers=headers).status_code == 401
    records = refusals(api, "auth.refused")
    assert [r["reason"] for r in records] == list(bad)
    assert all(r["principal_sub"] is None for r in records)
    (invalid,) = [r for r in records if r["reason"] == "invalid_token"]
    # What the token claimed is kept apart from the principal, which stays unknown.
    assert invalid["details"]["claimed"] == {"iss": api.services.dev_issuer.config.issuer, "sub": "officer-17"}  # type: ignore[union-attr]
    assert invalid["details"]["messages"] == {"signature invalid": 1}


def test_a_flood_of_bad_tokens_with_huge_values_writes_a_few_small_records(api: Api) -> None:
    token = forged(api, sub=HUGE)
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": HUGE, "User-Agent": HUGE}
    paths = [f"/api/v1/emergencies/{i}{HUGE}" if i % 10 == 0 else "/api/v1/emergencies" for i in range(2000)]
    answers = flood(api, [("GET", path, headers, b"") for path in paths])
    assert {r.status_code for r in answers} == {401}
    minute_over(api)
    records = refusals(api, "auth.refused")
    assert len(records) == 2 and counted(records) == 2000 and records[0]["client"] == "203.0.113.9"
    assert len(records[0]["details"]["claimed"]["sub"]) <= 200
    assert all(len(r["details"]["sample"]["path"]) <= 200 for r in records)
    assert audit_bytes(api) < 64 * 1024, audit_bytes(api)
    assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"] is True


def test_beyond_the_key_cap_one_overflow_record_counts_the_rest(make_api: Callable[..., Any]) -> None:
    with make_api(audit={"refusals": {"max_keys_per_minute": 2}}) as api:
        three_keys = [{}, {"Authorization": "Basic b2ZmaWNlcg=="}, {"Authorization": f"Bearer {forged(api)}"}]
        for headers in three_keys:
            for _ in range(20):
                assert api.get("/api/v1/cameras", as_=None, headers=headers).status_code == 401
        minute_over(api)
        records = refusals(api, "auth.refused")
        assert [(r["reason"], r["details"]["count"]) for r in records] == [
            ("no_credentials", 1),
            ("bad_scheme", 1),
            ("no_credentials", 19),
            ("bad_scheme", 19),
        ]
        (overflow,) = refusals(api, "refusal.overflow")
        assert overflow["details"]["count"] == 20 and overflow["details"]["kinds"] == {"auth.refused": 20}


def test_a_refused_declaration_is_recorded_with_the_principal_and_the_reason(api: Api) -> None:
    r = api.declare(as_="officer")
    assert r.status_code == 403 and r.json()["reason"] == "not_authorized_to_declare", r.text
    assert stored_emergencies(api) == 0
    (rec,) = refusals(api, "emergency.refused")
    sub, agency, roles = ACTORS["officer"]
    assert (rec["principal_sub"], rec["principal_agency"], rec["principal_roles"]) == (sub, agency, list(roles))
    assert (rec["reason"], rec["action"], rec["mou"], rec["allowed"]) == (
        "not_authorized_to_declare",
        "declare",
        "ncps-ncpd-video",
        False,
    )
    assert rec["details"]["sample"] == {"method": "POST", "path": "/api/v1/emergencies"}
    # Another officer refused the same minute is a record of their own, not merged into this one.
    assert api.declare(as_="officer2").status_code == 403
    assert [r["principal_sub"] for r in refusals(api, "emergency.refused")] == [sub, ACTORS["officer2"][0]]


def test_refused_end_and_role_gated_routes_are_recorded(api: Api) -> None:
    em = api.declared()
    assert api.end(em["id"], as_="officer").status_code == 403
    (rec,) = refusals(api, "emergency.refused")
    assert (rec["action"], rec["reason"], rec["principal_sub"]) == ("end", "not_authorized_to_end", "officer-17")
    assert api.get("/api/v1/audit", as_="officer").status_code == 403
    assert api.post("/api/v1/admin/reload", as_="officer").status_code == 403
    assert api.get("/api/v1/sharing", as_="officer").status_code == 403
    assert api.post("/api/v1/audit/checkpoints", as_="dispatcher").status_code == 403  # was: not recorded
    records = refusals(api, "access.refused")
    assert [(r["reason"], r["principal_sub"]) for r in records] == [
        ("not_an_auditor", "officer-17"),
        ("not_an_operator", "officer-17"),
        ("not_owner_staff", "officer-17"),
        ("not_an_auditor", ACTORS["dispatcher"][0]),
    ]
    assert records[-1]["details"]["sample"] == {"method": "POST", "path": "/api/v1/audit/checkpoints"}


def test_a_refused_sign_in_callback_is_recorded(api: Api) -> None:
    r = api.client.get("/auth/callback?code=x&state=" + HUGE)
    assert r.status_code == 401 and r.json()["reason"] == "no_login", r.text
    (rec,) = refusals(api, "signin.refused")
    assert (rec["reason"], rec["principal_sub"]) == ("no_login", None)


def test_the_audit_filters_find_refusals(api: Api) -> None:
    api.get("/api/v1/cameras", as_=None)
    api.declare(as_="officer")
    denied = api.audit(decision="deny")
    assert {r["kind"] for r in denied} == {"auth.refused", "emergency.refused"}
    assert [r["kind"] for r in api.audit(principal="officer-17")] == ["emergency.refused"]
    assert api.audit(decision="allow", kind="auth.refused") == []


def test_shutdown_writes_the_current_minute(make_api: Callable[..., Any]) -> None:
    with make_api() as api:
        for _ in range(5):
            api.get("/api/v1/cameras", as_=None)
        assert counted(refusals(api, "auth.refused")) == 1
    with make_api() as again:
        records = refusals(again, "auth.refused")
        assert [r["details"]["count"] for r in records] == [1, 4]


# -- triggers: the flood that once wrote 16 MB ------------------------------------------------------------


def test_a_flood_of_wrongly_signed_triggers_with_huge_ids_stays_small(api: Api) -> None:
    other = "whsec_" + "A" * 43
    body = json.dumps({"type": "panic.pressed", "data": {"device": "saxe-office-1"}}).encode()
    posts = [
        ("POST", "/api/v1/triggers/ncps", sign(other, f"{i}{HUGE}", api.clock.now(), body), body) for i in range(2000)
    ]
    answers = flood(api, posts)
    assert {(r.status_code, r.json()["reason"]) for r in answers} == {(401, "bad_signature")}
    minute_over(api)
    records = refusals(api, "trigger.refused")
    assert counted(records) == 2000 and len(records) == 2
    assert all(r["principal_sub"] is None and r["details"]["claimed"] == {"source": "ncps"} for r in records)
    assert len(records[0]["details"]["sample"]["webhook_id"]) <= 200
    assert audit_bytes(api) < 64 * 1024, audit_bytes(api)
    assert stored_emergencies(api) == 0


def test_a_refusal_after_the_signature_verified_names_the_source(api: Api) -> None:
    secret = api.services.settings.webhook_secrets("ncps")[0]
    body = json.dumps({"type": "panic.dance", "data": {"device": "saxe-office-1"}}).encode()
    r = api.client.post("/api/v1/triggers/ncps", content=body, headers=sign(secret, "m1", api.clock.now(), body))
    assert r.status_code == 422
    (rec,) = refusals(api, "trigger.refused")
    assert (rec["principal_sub"], rec["principal_agency"], rec["reason"]) == ("trigger:ncps", "ncps", "unmapped_event")
    assert "claimed" not in rec["details"]


# -- authentication before the body ---------------------------------------------------------------------------


def post_lazily(api: Api, path: str, headers: dict[str, str], size: int, *, chunked: bool) -> tuple[int, int, int]:
    """POST a ``size``-byte body produced as it is read, straight to the ASGI app: (status, bytes the app
    read, peak memory allocated meanwhile)."""
    chunk = b"{" * 65536
    pulled = 0
    status = 0
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"transfer-encoding", b"chunked") if chunked else (b"content-length", str(size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "client": ("198.51.100.7", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= size:
            return {"type": "http.disconnect"}
        n = min(len(chunk), size - pulled)
        pulled += n
        return {"type": "http.request", "body": chunk[:n], "more_body": pulled < size}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    tracemalloc.start()
    try:
        anyio.run(api.app, scope, receive, send)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return status, pulled, peak


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabytes_with_a_bad_token_are_refused_unread(api: Api, chunked: bool) -> None:
    bad = {"Authorization": f"Bearer {forged(api)}", "Content-Type": "application/json"}
    status, pulled, peak = post_lazily(api, "/api/v1/emergencies", bad, 10 * MB, chunked=chunked)
    assert (status, pulled) == (401, 0)
    assert peak < 2 * MB, peak
    (rec,) = refusals(api, "auth.refused")
    assert (rec["reason"], rec["client"], rec["details"]["count"]) == ("invalid_token", "198.51.100.7", 1)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabytes_with_a_good_token_are_413_read_no_further_than_the_limit(api: Api, chunked: bool) -> None:
    good = {"Authorization": f"Bearer {api.token('dispatcher')}", "Content-Type": "application/json"}
    status, pulled, peak = post_lazily(api, "/api/v1/emergencies", good, 10 * MB, chunked=chunked)
    limit = api.services.settings.server.max_body_bytes
    assert status == 413
    assert pulled == 0 if not chunked else limit < pulled <= limit + 65536
    assert peak < 4 * MB, peak
    assert stored_emergencies(api) == 0 and refusals(api, "auth.refused") == []


def test_a_body_under_the_limit_still_reaches_the_route(api: Api) -> None:
    assert api.declare(as_="dispatcher").status_code == 201  # authenticated once, before the body
    chunks = iter([b'{"mou": "ncps-ncpd-video", ', b'"site": "nope"}'])  # chunked: no Content-Length
    r = api.post("/api/v1/emergencies", as_="dispatcher", content=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "site", r.text


def test_a_forged_ten_megabyte_trigger_is_401_in_constant_memory(api: Api) -> None:
    headers = sign("whsec_" + "A" * 43, "m1", api.clock.now(), b"{" * 10)  # any signature but the body's
    status, pulled, peak = post_lazily(api, "/api/v1/triggers/ncps", headers, 10 * MB, chunked=False)
    assert status == 401 and pulled == 10 * MB  # every byte checked against the signature, none kept
    assert peak < 2 * MB, peak
    (rec,) = refusals(api, "trigger.refused")
    assert (rec["reason"], rec["principal_sub"], rec["details"]["claimed"]) == (
        "bad_signature",
        None,
        {"source": "ncps"},
    )


def test_a_genuine_ten_megabyte_trigger_is_too_large_and_unsigned_ones_are_not_read(api: Api) -> None:
    secret = api.services.settings.webhook_secrets("ncps")[0]
    headers = sign(secret, "m1", api.clock.now(), b"{" * (10 * MB))
    status, pulled, peak = post_lazily(api, "/api/v1/triggers/ncps", headers, 10 * MB, chunked=True)
    assert (status, pulled) == (422, 10 * MB) and peak < 2 * MB, peak
    status, pulled, _ = post_lazily(api, "/api/v1/triggers/ncps", {}, 10 * MB, chunked=False)
    assert status == 401 and pulled == 0  # unsigned: refused by its headers before a byte is read
    records = refusals(api, "trigger.refused")
    assert [(r["reason"], r["principal_sub"]) for r in records] == [("too_large", "trigger:ncps"), ("unsigned", None)]
    assert stored_emergencies(api) == 0


def test_a_trigger_body_beyond_what_is_verified_is_401_unread_past_it(api: Api) -> None:
    headers = sign("whsec_" + "A" * 43, "m1", api.clock.now(), b"{")
    status, pulled, _ = post_lazily(api, "/api/v1/triggers/ncps", headers, 20 * MB, chunked=False)
    assert status == 401 and 16 * MB < pulled <= 16 * MB + 65536  # authentication before size: never 413/422
    (rec,) = refusals(api, "trigger.refused")
    assert (rec["reason"], rec["principal_sub"]) == ("too_large_unverified", None)


# -- issue 13 item 2: the headers refuse before the body is read; positions are bounded and counted too ---------

REFUSING_HEADERS = {
    "unsigned": {},
    "stale_timestamp": {"webhook-id": "m1", "webhook-timestamp": "1000000000", "webhook-signature": "v1,AAAA"},
    "bad_signature": {"webhook-id": HUGE, "webhook-timestamp": "{now}", "webhook-signature": "v1,AAAA"},
    "bad_timestamp": {"webhook-id": "m1", "webhook-timestamp": HUGE, "webhook-signature": "v1,AAAA"},
}


@pytest.mark.parametrize("path", ["/api/v1/triggers/ncps", "/api/v1/triggers/nope", "/api/v1/positions"])
@pytest.mark.parametrize("case", sorted(REFUSING_HEADERS))
def test_headers_that_refuse_a_delivery_answer_401_before_a_byte_of_the_body_is_read(
    api: Api, path: str, case: str
) -> None:
    now = str(int(api.clock.now().timestamp()))
    headers = {k: v.replace("{now}", now) for k, v in REFUSING_HEADERS[case].items()}
    status, pulled, _ = post_lazily(api, path, headers, 10 * MB, chunked=False)
    assert (status, pulled) == (401, 0)
    minute_over(api)
    kind = "positions.refused" if "positions" in path else "trigger.refused"
    (rec,) = refusals(api, kind)
    assert rec["principal_sub"] is None and len(json.dumps(rec)) < 2000, rec  # bounded, whatever was sent


def test_a_flood_of_wrongly_signed_positions_with_huge_ids_stays_small(api: Api) -> None:
    body = json.dumps({"camera": "pb-body-01", "lat": 41.1, "lon": -73.4, "at": "2026-09-14T13:00:00Z"}).encode()
    other = "whsec_" + "A" * 43
    posts = [("POST", "/api/v1/positions", sign(other, f"{i}{HUGE}", api.clock.now(), body), body) for i in range(500)]
    assert {(r.status_code, r.json()["reason"]) for r in flood(api, posts)} == {(401, "bad_signature")}
    minute_over(api)
    records = refusals(api, "positions.refused")
    assert counted(records) == 500 and len(records) == 2
    assert audit_bytes(api) < 64 * 1024, audit_bytes(api)


def test_a_positions_body_too_large_to_verify_is_401_whoever_signed_it(api: Api) -> None:
    secret = api.services.settings.webhook_secrets("ncpb")[0]
    headers = sign(secret, "p1", api.clock.now(), b"{" * (10 * MB))  # genuine: still not verifiable from 256 KiB
    status, pulled, peak = post_lazily(api, "/api/v1/positions", headers, 10 * MB, chunked=False)
    assert status == 401 and pulled <= 256 * 1024 + 65536 and peak < 2 * MB, (status, pulled, peak)
    (rec,) = refusals(api, "positions.refused")
    assert (rec["reason"], rec["principal_sub"]) == ("too_large_unverified", None)


def test_expired_or_foreign_segment_urls_are_counted(api: Api) -> None:
    uri = next(line for line in api.live("saxe-ext-01").text.splitlines() if line and not line.startswith("#"))
    lots = uri.replace("saxe-ext-01", "lots-ext-01")  # the same upstream reference on another camera
    assert [api.get(lots, as_=None).status_code for _ in range(2)] == [401, 401]
    api.clock.advance(api.services.settings.streams.token_min_seconds + 1)  # a live segment URL's least life
    assert api.get(uri, as_=None).json()["reason"] == "expired"
    minute_over(api)
    records = refusals(api, "stream.refused")
    assert [(r["reason"], r["details"]["count"]) for r in records] == [
        ("camera_mismatch", 1),
        ("expired", 1),
        ("camera_mismatch", 1),
    ]
    assert all(r["principal_sub"] is None and "?" not in r["details"]["sample"]["path"] for r in records)

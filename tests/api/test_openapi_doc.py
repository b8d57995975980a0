"""The description's mechanism (``broker/api/errordoc.py``, ``openapi.py``) and the strictness it documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from broker.api.errordoc import raises
from broker.api.models import parse_rfc3339
from broker.errors import (
    AccessDenied,
    AuditUnavailable,
    GatewayBusy,
    PermissionDenied,
    StoreUnavailable,
    UnknownCamera,
)
from tests.api.support import Api, assert_422


def spec(api: Api) -> dict[str, Any]:
    r = api.get("/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()


def codes(answer: dict[str, Any]) -> list[str]:
    return answer["content"]["application/json"]["schema"]["properties"]["error"]["enum"]


def test_raises_groups_the_error_tree_by_status() -> None:
    responses = raises(AccessDenied, PermissionDenied, UnknownCamera, AuditUnavailable, StoreUnavailable)
    assert sorted(responses) == [403, 404, 503]
    assert codes(responses[403]) == ["access_denied", "forbidden"]
    assert codes(responses[503]) == ["audit_unavailable", "store_unavailable"]
    assert "Retry-After" in responses[503]["headers"]  # every 503 says when to ask again
    busy = raises(GatewayBusy, AuditUnavailable)[503]
    assert codes(busy) == ["audit_unavailable", "gateway_busy"] and "Retry-After" in busy["headers"]


def test_every_operation_documents_the_framework_answers(api: Api) -> None:
    doc = spec(api)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["Error"]["additionalProperties"] is False
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            answers = op["responses"]
            assert codes(answers["500"]) == ["internal_error"], (method, path)
            if op["security"] == [{"webhook_signature": []}]:  # signed webhooks: no bearer token
                assert codes(answers["401"]) == ["invalid_signature"], (method, path)
                assert path in ("/api/v1/triggers/{source}", "/api/v1/positions")
            elif op["security"]:
                assert "unauthenticated" in codes(answers["401"]), (method, path)
                assert "WWW-Authenticate" in answers["401"]["headers"]
            else:
                assert path in ("/healthz", "/readyz") or "/hls/" in path or path.endswith("/view.m3u8")
            if "{" in path:
                assert "not_found" in codes(answers["404"]), (method, path)


def test_media_types_security_and_segment_parameters(api: Api) -> None:
    paths = spec(api)["paths"]
    base = "/api/v1/cameras/{camera_id}"
    assert list(paths[f"{base}/live.m3u8"]["get"]["responses"]["200"]["content"]) == ["application/vnd.apple.mpegurl"]
    assert list(paths[f"{base}/snapshot.jpg"]["get"]["responses"]["200"]["content"]) == ["image/jpeg"]
    assert paths[f"{base}/live.m3u8"]["get"]["security"] == [
        {"bearer": []},
        {"access_token": []},
        {"console_session": []},
    ]
    assert list(paths["/api/v1/events"]["get"]["responses"]["200"]["content"]) == ["text/event-stream"]
    assert "forbidden" in codes(paths["/api/v1/emergencies"]["post"]["responses"]["403"])  # CSRF on cookie writes
    assert codes(paths["/api/v1/session"]["get"]["responses"]["401"]) == ["unauthenticated"]
    segment = paths[f"{base}/hls/{{name}}"]["get"]
    assert [(p["name"], p["in"]) for p in segment["parameters"]] == [
        ("camera_id", "path"),
        ("name", "path"),
        ("t", "query"),
    ]
    assert "video/mp2t" in segment["responses"]["200"]["content"] and segment["security"] == []
    assert codes(segment["responses"]["401"]) == ["invalid_stream_token"]


def test_405_names_every_method_of_the_path(api: Api) -> None:
    r = api.client.delete("/api/v1/emergencies")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"  # RFC 9110 §15.5.6
    assert r.json()["error"] == "method_not_allowed"
    assert api.client.put("/healthz").headers["allow"] == "GET"


@pytest.mark.parametrize("value", ["0.5", "0", "1726318800", "2026-09-14", "2026-09-14T13:00:00", "2026-09-14 13:00Z",
                                   "2026-02-30T13:00:00Z", "yesterday", "2026-09-14T13:00:00+0000"])  # fmt: skip
def test_audit_times_are_rfc3339_with_offset(api: Api, value: str) -> None:
    for name in ("since", "until"):
        assert_422(api.get("/api/v1/audit", as_="auditor", params={name: value}), name)


def test_rfc3339_date_times_are_accepted() -> None:
    assert parse_rfc3339("2026-09-14T13:00:00Z") == datetime(2026, 9, 14, 13, tzinfo=UTC)
    assert parse_rfc3339("2026-09-14t09:00:00.5-04:00") == datetime(2026, 9, 14, 13, 0, 0, 500000, tzinfo=UTC)
    assert parse_rfc3339("2016-12-31T23:59:60Z").second == 59  # RFC 3339 §5.7 leap second


def test_audit_cursor_beyond_64_bits_is_422(api: Api) -> None:
    assert_422(api.get("/api/v1/audit", as_="auditor", params={"after": 2**63}), "after")

"""Date-times that RFC 3339 allows but no UTC instant represents (issue 13 item 4): a 422 naming the field, never
a 500. ``0001-01-01T00:00:00+14:00`` is before year 1 in UTC, ``9999-12-31T23:59:59-14:00`` after year 9999.
(The positions body's ``at``: tests/api/test_positions.py.)"""

from __future__ import annotations

import pytest

from broker.api.models import parse_rfc3339
from broker.timeutil import parse_instant
from tests.api.support import PREFIX, Api, assert_422

TOO_EARLY = "0001-01-01T00:00:00+14:00"
TOO_LATE = "9999-12-31T23:59:59-14:00"


@pytest.mark.parametrize("value", [TOO_EARLY, TOO_LATE])
def test_parsers_refuse_out_of_range_instants_as_value_errors(value: str) -> None:
    with pytest.raises(ValueError, match="years 0001 to 9999 in UTC"):
        parse_rfc3339(value)
    with pytest.raises(ValueError, match="years 0001 to 9999 in UTC"):
        parse_instant(value)  # documents (MOU dates) and the wire format


@pytest.mark.parametrize("name", ["start", "end"])
@pytest.mark.parametrize("value", [TOO_EARLY, TOO_LATE])
def test_playback_window_out_of_range_is_422_naming_it(api: Api, name: str, value: str) -> None:
    params = {"start": "2026-09-14T12:00:00Z"} | {name: value}
    r = api.get(f"{PREFIX}/saxe-ext-01/playback.m3u8", params=params)
    assert r.status_code == 422 and r.json()["field"] == name, r.text
    assert "years 0001 to 9999" in r.json()["message"], r.text


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", [TOO_EARLY, TOO_LATE])
def test_audit_filter_out_of_range_is_422_naming_it(api: Api, name: str, value: str) -> None:
    assert_422(api.get("/api/v1/audit", as_="auditor", params={name: value}), name)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00-14:00"])
def test_the_edges_of_the_range_are_answered_not_500(api: Api, value: str) -> None:
    assert api.get("/api/v1/audit", as_="auditor", params={"since": value, "until": value}).status_code == 200
    r = api.get(f"{PREFIX}/saxe-ext-01/playback.m3u8", params={"start": value})
    assert r.status_code < 500, r.text


def test_the_description_gives_these_values_as_examples_so_schemathesis_sends_them(api: Api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    params = (
        paths["/api/v1/audit"]["get"]["parameters"]
        + paths[f"{PREFIX}/{{camera_id}}/playback.m3u8"]["get"]["parameters"]
    )
    for p in (p for p in params if p["name"] in ("since", "until", "start", "end")):
        assert {TOO_EARLY, TOO_LATE} <= {e["value"] for e in p["examples"].values()}, p["name"]

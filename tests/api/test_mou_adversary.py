"""Adversarial MOU drafts over real HTTP (issue 14, bad input: "no 500s"): dates at the ends of the calendar,
whose period is no instant, are a 422 naming the field; the MOU's versions stay readable."""

from __future__ import annotations

import pytest

from tests.api.support import Api
from tests.api.test_mou_admin import draft, mou_api, store_url, v4

__all__ = ["mou_api", "store_url"]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("expires: 2027-06-30", "expires: 9999-12-31", "expires"),
        ("effective: 2026-09-15", "effective: 0001-01-01", "effective"),
    ],
)
def test_a_period_at_the_end_of_the_calendar_is_422_naming_the_field(
    mou_api: Api, old: str, new: str, field: str
) -> None:
    api = mou_api
    r = draft(api, v4().replace(old, new))
    assert r.status_code == 422, r.text
    assert any(line.startswith("draft.yaml:") and f": {field}: " in line for line in r.json()["lines"]), r.json()
    r = api.get("/api/v1/mous/ncps-ncpd-video/versions", as_="operator")
    assert r.status_code == 200 and len(r.json()["versions"]) == 1

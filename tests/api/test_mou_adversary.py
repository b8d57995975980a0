"""Adversarial MOU drafts over real HTTP (issue 14, bad input: "no 500s"): dates at the ends of the calendar,
whose period is no instant, are a 422 naming the field; the MOU's versions stay readable."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx
import pytest

from broker.audit import health as health_module
from broker.documents import mou_files
from tests.api.support import MOUS, Api
from tests.api.test_mou_admin import PARTIES, approve, draft, mou_api, store_url, v4

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]


def put(api: Api, path: str, as_: str, json: object) -> httpx.Response:
    return api.client.put(path, headers=api.headers(as_), json=json)


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


def test_with_the_audit_reserve_low_what_opens_access_is_503_and_stored_nowhere_what_closes_it_goes(
    make_api: MakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README "When the audit log cannot write (fail closed)": below audit.reserve_bytes the reserve is for the
    records that close access. A draft, an approval, a roster naming someone new, a classification open access:
    503 audit_unavailable, nothing stored. A termination or a roster that only takes people off closes it: it goes."""
    roster_text = v4(effective="2026-07-01") + "roster:\n  agencies: [ncpd]\n"
    with make_api(mous={"source": "store", "parties": PARTIES}) as api:
        if api.services.audit._store.database_path is None:
            pytest.skip("the disk reserve is SQLite's (a file database)")
        mous = api.services.mous
        assert mous is not None
        mous.import_texts([(str(p), p.read_bytes()) for p in mou_files([MOUS])], {"principal_sub": "test"})
        api.services.reloader.reload("test")
        sha = draft(api, roster_text).json()["sha256"]
        for who in ("operator", "chief"):
            assert approve(api, 4, sha, who).status_code == 200
        roster = "/api/v1/mous/ncps-ncpd-video/roster"
        kim = {"agency": "ncpd", "sub": "officer-17", "name": "Officer Kim"}
        assert put(api, roster, as_="operator", json={"entries": [kim]}).status_code == 200
        monkeypatch.setattr(health_module, "free_bytes", lambda _p: 1000)
        assert api.services.audit.probe() is False
        before = len(api.audit())
        refused = [
            draft(api, roster_text.replace("version: 4", "version: 5")),
            put(api, roster, as_="operator", json={"entries": [kim, kim | {"sub": "officer-22", "name": "Lee"}]}),
            put(
                api,
                "/api/v1/cameras/saxe-new-01/classification",
                as_="operator",
                json={"site": "ncps-saxe", "zone": "exterior"},
            ),
        ]
        for r in refused:
            assert (r.status_code, r.json()["error"]) == (503, "audit_unavailable"), r.text
            assert r.headers["Retry-After"] == "5"
        assert len(api.audit()) == before  # nothing recorded, nothing stored
        assert [
            v["version"] for v in api.get("/api/v1/mous/ncps-ncpd-video/versions", as_="operator").json()["versions"]
        ] == [3, 4]
        assert put(api, roster, as_="operator", json={"entries": []}).status_code == 200  # takes Kim off: closes
        r = api.post("/api/v1/mous/ncps-ncpd-video/terminate", as_="chief", json={"reason": "disk full, but ended"})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("reason", ["ended \u0000 by the board", "ended by the \u202eboard", "ended by the board\x07"])
def test_a_termination_reason_with_control_characters_is_422_naming_it(mou_api: Api, reason: str) -> None:
    """A NUL was stored on SQLite (and sent to the parties' webhooks); PostgreSQL refused it as a 503 blaming the store,
    marking the audit log unwritable. Lines and tabs are kept."""
    r = mou_api.post("/api/v1/mous/ncps-ncpd-video/terminate", as_="chief", json={"reason": reason})
    assert (r.status_code, r.json()["field"]) == (422, "reason"), r.text
    assert "U+" in r.json()["message"]
    r = mou_api.post(
        "/api/v1/mous/ncps-ncpd-video/terminate", as_="chief", json={"reason": "Ended by the board:\n\tvote 5-2"}
    )
    assert r.status_code == 200, r.text

"""A version that changes an MOU's parties (issue 14, item 2: "an approver of every party"): the parties of the
version it would supersede must approve it too. Otherwise the owner and a newcomer could sign the police out of
their MOU by themselves, with no notice to the police. Over real HTTP, SQLite and (with
CAMGATE_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from broker.documents import mou_files
from tests.api.support import MOUS, Api
from tests.api.test_mou_admin import PARTIES, approve, draft, live_allowed, store_url, v4

__all__ = ["store_url"]
MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]
WITH_PARKING = {**PARTIES, "ncpb": {"editors": ["supervisor"], "approvers": ["supervisor"]}}


@pytest.fixture
def api3(make_api: MakeApi) -> Iterator[Api]:
    with make_api(mous={"source": "store", "parties": WITH_PARKING}) as api:
        mous = api.services.mous
        assert mous is not None
        mous.import_texts([(str(p), p.read_bytes()) for p in mou_files([MOUS])], {"principal_sub": "test"})
        api.services.reloader.reload("test")
        yield api


def police_out(effective: str = "2026-07-01") -> str:
    """Version 4: the parking bureau instead of the police, under the same id."""
    text = v4(effective=effective)
    return text.replace("recipients: [ncpd]", "recipients: [ncpb]").replace("agency: ncpd", "agency: ncpb")


def version(api: Api, v: int, as_: str = "operator") -> Any:
    r = api.get(f"/api/v1/mous/ncps-ncpd-video/versions/{v}", as_=as_)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_version_dropping_a_party_needs_that_partys_approval_too(api3: Api) -> None:
    api = api3
    r = draft(api, police_out())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["parties"] == ["ncps", "ncpb"] and body["leaving"] == ["ncpd"]
    assert body["missing"] == ["ncps", "ncpb", "ncpd"]
    sha = body["sha256"]
    assert approve(api, 4, sha, "operator").status_code == 200
    r = approve(api, 4, sha, "parking")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "proposed" and r.json()["missing"] == ["ncpd"]  # not in force without the police
    assert live_allowed(api)  # version 3 still holds
    seen = version(api, 4, as_="chief")
    assert seen["leaving"] == ["ncpd"]  # the police may read it, and the console offers them to approve it...
    assert seen["can"]["approve"] is True and seen["can"]["draft"] is False
    r = approve(api, 4, sha, "chief")  # ...and only their approval completes it
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_force"
    assert "saxe-ext-01" not in api.cameras("officer")  # the police see no school camera any more


def test_the_leaving_party_may_withdraw_but_not_draft_or_terminate_once_out(api3: Api) -> None:
    api = api3
    sha = draft(api, police_out()).json()["sha256"]
    assert approve(api, 4, sha, "chief").status_code == 200
    r = api.post("/api/v1/mous/ncps-ncpd-video/versions/4/withdraw", as_="chief")
    assert r.status_code == 200, r.text
    assert r.json()["approvals"] == []
    for who in ("chief", "operator", "parking"):
        assert approve(api, 4, sha, who).status_code == 200
    assert version(api, 4)["state"] == "in_force"
    r = api.post("/api/v1/mous/ncps-ncpd-video/terminate", as_="chief", json={"reason": "we want it back please"})
    assert r.status_code == 403 and r.json()["reason"] == "not_a_party"


def test_a_new_mou_and_a_version_keeping_its_parties_need_only_their_own(api3: Api) -> None:
    api = api3
    body = draft(api, v4()).json()
    assert body["leaving"] == [] and body["missing"] == ["ncps", "ncpd"]


def test_the_leaving_party_may_counter_draft_while_the_version_is_open_and_not_once_it_is_out(api3: Api) -> None:
    api = api3
    assert draft(api, police_out()).status_code == 201
    counter = v4(effective="2026-07-01").replace("max_duration: 4h", "max_duration: 3h")
    r = draft(api, counter, as_="supervisor")  # the police keep themselves in: a new revision of version 4
    assert r.status_code == 201, r.text
    assert (r.json()["revision"], r.json()["leaving"]) == (2, [])
    out = police_out().replace("max_duration: 4h", "max_duration: 2h")
    sha = draft(api, out).json()["sha256"]
    for who in ("operator", "parking", "chief"):
        assert approve(api, 4, sha, who).status_code == 200
    r = draft(api, out.replace("version: 4", "version: 5"), as_="supervisor")
    assert r.status_code == 403 and r.json()["reason"] == "not_a_party"

"""MOUs kept by the broker over real HTTP (issue 14): drafts, countersignature, effect from ``effective`` exactly,
new approvals after an edit, bad input, termination."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.mou_support import PARTIES, import_demo_mous
from tests.api.support import MOUS, Api

V3 = (MOUS / "mou-ncps-ncpd.yaml").read_text(encoding="utf-8")
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def mou_api(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with make_api(mous={"source": "store", "parties": PARTIES}) as api:
        import_demo_mous(api)
        yield api


def v4(effective: str = "2026-09-15", **replace: str) -> str:
    text = V3.replace("version: 3", "version: 4").replace("effective: 2026-07-01", f"effective: {effective}")
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


NO_LIVE = {
    "    actions: [live, snapshot, playback]\n    when: always": "    actions: [snapshot, playback]\n    when: always"
}


def draft(api: Api, text: str, as_: str = "operator") -> Any:
    return api.post("/api/v1/mous", as_=as_, content=text.encode(), headers=YAML)


def approve(api: Api, version: int, sha: str, as_: str) -> Any:
    return api.post(f"/api/v1/mous/ncps-ncpd-video/versions/{version}/approve", as_=as_, json={"sha256": sha})


def live_allowed(api: Api, camera: str = "saxe-ext-01") -> bool:
    return bool(api.cameras("officer")[camera]["live"]["allowed"])


def test_a_version_takes_effect_only_when_every_party_approved_and_exactly_from_effective(mou_api: Api) -> None:
    api = mou_api
    assert live_allowed(api)
    r = draft(api, v4(**NO_LIVE))
    assert r.status_code == 201, r.text
    body = r.json()
    sha = hashlib.sha256(v4(**NO_LIVE).encode()).hexdigest()
    assert (body["state"], body["sha256"], body["missing"]) == ("draft", sha, ["ncps", "ncpd"])
    assert approve(api, 4, sha, "operator").json()["state"] == "proposed"
    assert live_allowed(api)  # one party only: not enforced
    r = approve(api, 4, sha, "chief")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["missing"] == []
    midnight = datetime(2026, 9, 15, 4, 0, tzinfo=UTC)  # 00:00 in New Canaan (EDT)
    assert r.json()["start"] == "2026-09-15T04:00:00Z"
    api.travel(midnight - timedelta(microseconds=1))
    assert live_allowed(api)  # v3 until the last instant before
    api.travel(midnight)
    assert not live_allowed(api)  # v4 from its first instant, with no reload
    assert api.cameras("officer")["saxe-ext-01"]["live"]["reason"] == "no_matching_grant"
    api.services.tick()
    history = api.get("/api/v1/mous/ncps-ncpd-video/versions", as_="chief").json()
    assert [v["state"] for v in history["versions"]] == ["superseded", "in_force"]
    assert history["in_force"] == 4
    kinds = [r["kind"] for r in api.audit(kind="mou.in_force")]
    assert kinds == ["mou.in_force"]


def test_an_edit_after_an_approval_needs_new_approvals(mou_api: Api) -> None:
    api = mou_api
    first = draft(api, v4()).json()
    assert approve(api, 4, first["sha256"], "operator").json()["state"] == "proposed"
    edited = v4(**NO_LIVE)
    second = draft(api, edited).json()
    assert second["revision"] == 2 and second["state"] == "draft" and second["approvals"] == []
    assert [a["agency"] for a in second["stale_approvals"]] == ["ncps"]
    r = approve(api, 4, first["sha256"], "chief")
    assert r.status_code == 409 and r.json()["error"] == "mou_state" and r.json()["sha256"] == second["sha256"]
    full = api.get("/api/v1/mous/ncps-ncpd-video/versions/4", as_="operator").json()
    assert full["text"] == edited and [r["revision"] for r in full["revisions"]] == [1, 2]
    assert re.fullmatch(r"[0-9a-f]{64}", full["revisions"][0]["sha256"])


def test_bad_input(mou_api: Api) -> None:
    api = mou_api
    r = draft(api, V3.replace("when: always", "when: sometimes", 1).replace("version: 3", "version: 4"))
    assert r.status_code == 422
    assert any(line.startswith("draft.yaml:") and "when" in line for line in r.json()["lines"]), r.json()
    assert len(api.get("/api/v1/mous/ncps-ncpd-video/versions", as_="operator").json()["versions"]) == 1  # kept nowhere
    assert draft(api, v4(), as_="officer").status_code == 403  # a party, but no editor role
    assert draft(api, v4(), as_="parking").json()["reason"] == "not_a_party"
    assert draft(api, V3.replace("version: 3", "version: 7")).json()["field"] == "version"
    assert draft(api, V3).status_code == 200  # the text in force already: nothing new
    sha = draft(api, v4()).json()["sha256"]
    assert approve(api, 4, sha, "parking").status_code == 403
    assert approve(api, 4, "0" * 64, "operator").status_code == 409
    assert approve(api, 4, "nothex", "operator").status_code == 422
    assert approve(api, 9, sha, "operator").status_code == 404
    assert api.get("/api/v1/mous/nope/versions", as_="operator").status_code == 404
    r = api.post("/api/v1/mous", as_="operator", json={"mou": "x"})
    assert r.status_code == 422 and r.json()["field"] == "body"


def test_termination_ends_access_at_once(mou_api: Api) -> None:
    api = mou_api
    assert live_allowed(api)
    r = api.post("/api/v1/mous/ncps-ncpd-video/terminate", as_="operator", json={"reason": "x"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api.post(
        "/api/v1/mous/ncps-ncpd-video/terminate", as_="operator", json={"reason": "The board ended the agreement"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["terminated"]["reason"] == "The board ended the agreement"
    assert api.cameras("officer").get("saxe-ext-01") is None or not live_allowed(api)
    r = draft(api, v4())
    assert r.status_code == 409 and r.json()["state"] == "terminated"
    verdict = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert verdict["ok"] and verdict["bindings"] == [], verdict


def test_the_mou_list_by_state(mou_api: Api) -> None:
    api = mou_api
    draft(api, v4())
    r = api.get("/api/v1/mou-versions", as_="chief")
    assert r.status_code == 200, r.text
    listed = {m["mou"]: [v["state"] for v in m["versions"]] for m in r.json()["mous"]}
    assert listed == {"ncpb-ncpd-video": ["in_force"], "ncps-ncpd-video": ["in_force", "draft"]}
    assert "ncpb-ncpd-video" not in {m["mou"] for m in api.get("/api/v1/mou-versions", as_="operator").json()["mous"]}
    assert r.json()["source"] == "store" and r.json()["at"] == "2026-09-14T13:00:00Z"

"""Attacking MOU administration (issue 14, bad input and races): approvals racing on one version, an approval
racing a new revision, drafts racing and flooding, a body over the limit, a YAML bomb, bytes that are not UTF-8,
and a non-party drafting under another MOU's id. Every case is a clear 4xx naming the field or the reason, nothing
is lost, and there is no 500. SQLite and, with CAMGATE_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest

from broker.errors import CamgateError, MouStateConflict
from broker.policy import Principal
from tests.api.mou_support import PARTIES, import_demo_mous
from tests.api.support import ACTORS, Api
from tests.api.test_mou_admin import YAML, draft, mou_api, store_url, v4

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]

__all__ = ["mou_api", "store_url"]  # the fixtures, from the MOU administration tests
MOU = "ncps-ncpd-video"


def principal(actor: str) -> Principal:
    sub, agency, roles = ACTORS[actor]
    return Principal.of(sub, agency, roles)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once (a barrier releases them together); each one's result or CamgateError."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            out[i] = call()
        except CamgateError as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def history(api: Api) -> dict[str, Any]:
    r = api.get(f"/api/v1/mous/{MOU}/versions", as_="operator")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_two_approvals_of_one_agency_racing_store_exactly_one(mou_api: Api) -> None:
    api = mou_api
    sha = draft(api, v4()).json()["sha256"]
    mous = api.services.mous
    assert mous is not None
    results = race(
        lambda: mous.approve(principal("operator"), MOU, 4, sha),
        lambda: mous.approve(principal("superintendent"), MOU, 4, sha),
        lambda: mous.approve(principal("chief"), MOU, 4, sha),
    )
    refused = [r for r in results if isinstance(r, CamgateError)]
    assert len(refused) == 1 and isinstance(refused[0], MouStateConflict), results  # one of the two school ones
    assert "approved this text already" in refused[0].message or "is approved" in refused[0].message
    (v,) = [v for v in history(api)["versions"] if v["version"] == 4]
    assert sorted(a["agency"] for a in v["approvals"]) == ["ncpd", "ncps"] and v["stale_approvals"] == []
    assert len(api.audit(kind="mou.approve")) == 2  # one record per stored approval, no more
    assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"]


def test_an_approval_racing_a_new_revision_is_refused_or_counts_for_its_hash_only(mou_api: Api) -> None:
    api = mou_api
    first = draft(api, v4()).json()["sha256"]
    mous = api.services.mous
    assert mous is not None
    revised = v4(**{"title: Police access": "title: Revised police access"}).encode()
    append = mous.audit.append_bound

    def revise_first(kind: str, *args: Any, **kw: Any) -> Any:
        """The draft of revision 2 commits between the approval's read of the version and its write."""
        if kind == "mou.approve":
            mous.audit.append_bound = append  # type: ignore[method-assign]
            mous.draft(principal("operator"), revised)
        return append(kind, *args, **kw)

    mous.audit.append_bound = revise_first  # type: ignore[method-assign]
    with pytest.raises(MouStateConflict) as refused:
        mous.approve(principal("chief"), MOU, 4, first)
    assert refused.value.details.get("sha256") == hashlib.sha256(revised).hexdigest()
    (v,) = [v for v in history(api)["versions"] if v["version"] == 4]
    assert v["revision"] == 2 and v["approvals"] == [] and v["stale_approvals"] == []  # nothing counted
    assert api.audit(kind="mou.approve") == []


def test_drafts_racing_and_flooding_are_each_kept_with_their_own_revision(mou_api: Api) -> None:
    api = mou_api
    mous = api.services.mous
    assert mous is not None
    texts = [v4(**{"title: Police access": f"title: Draft {i} of police access"}).encode() for i in range(12)]
    results = race(*(lambda t=t: mous.draft(principal("operator"), t) for t in texts))
    assert not [r for r in results if isinstance(r, CamgateError)], results
    (v,) = [v for v in history(api)["versions"] if v["version"] == 4]
    assert v["revision"] == 12
    full = api.get(f"/api/v1/mous/{MOU}/versions/4", as_="operator").json()
    assert sorted(r["revision"] for r in full["revisions"]) == list(range(1, 13))  # no gap, none lost
    assert {r["sha256"] for r in full["revisions"]} == {hashlib.sha256(t).hexdigest() for t in texts}
    for i in range(30):  # a flood over HTTP: each one stored, answered 201
        r = draft(api, v4(**{"title: Police access": f"title: Flood {i} of police access"}))
        assert r.status_code == 201, r.text
    assert len(api.get(f"/api/v1/mous/{MOU}/versions/4", as_="operator").json()["revisions"]) == 42
    assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"]


def test_a_body_over_the_limit_is_413_and_a_large_one_under_it_is_422_with_lines(mou_api: Api) -> None:
    api = mou_api
    huge = ("# " + "x" * 1000 + "\n") * 1100  # 1.1 MB of comment, over server.max_body_bytes (1 MiB)
    r = draft(api, v4() + huge)
    assert r.status_code == 413 and r.json()["error"] == "content_too_large", r.text
    big = v4() + ("# " + "x" * 1000 + "\n") * 900 + "extra: 1\n"  # 0.9 MB: read, validated, refused by line
    r = draft(api, big)
    assert r.status_code == 422, r.text
    assert any(line.startswith("draft.yaml:") and "extra" in line for line in r.json()["lines"]), r.json()
    assert len(history(api)["versions"]) == 1


def test_a_yaml_bomb_is_refused_at_once_with_its_line(mou_api: Api) -> None:
    api = mou_api
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]  # 9^12 values
    r = draft(api, "\n".join([*lines, "mou: *a11\n"]))
    assert r.status_code == 422, r.text
    assert r.json()["lines"] == [r.json()["lines"][0]] and "aliases expand" in r.json()["lines"][0]
    assert r.json()["lines"][0].startswith("draft.yaml:1: (document): ")
    recursive = draft(api, "a: &a [*a]\nmou: *a\n")  # an alias of itself
    assert recursive.status_code == 422, recursive.text


def test_bytes_that_are_not_utf8_are_422_naming_the_byte(mou_api: Api) -> None:
    api = mou_api
    raw = v4().encode().replace(b"Police access", b"Police \xff\xfe access")
    r = api.post("/api/v1/mous", as_="operator", content=raw, headers=YAML)
    assert r.status_code == 422, r.text
    (line,) = r.json()["lines"]
    assert line.startswith("draft.yaml:0: (document): not UTF-8 text") and "at byte" in line
    r = api.post("/api/v1/mous", as_="operator", content=b"\x00\x01mou: x", headers=YAML)
    assert r.status_code == 422 and r.json()["lines"], r.text
    assert len(history(api)["versions"]) == 1


def test_a_non_party_cannot_draft_under_another_mous_id(make_api: MakeApi) -> None:
    parties = PARTIES | {"ncpb": {"editors": ["supervisor"], "approvers": ["supervisor"]}}
    with make_api(mous={"source": "store", "parties": parties}) as api:
        import_demo_mous(api, reload=False)
        # The parking bureau's editor names itself a party (the owner's recipient) of the schools' MOU id.
        hijack = v4().replace("recipients: [ncpd]", "recipients: [ncpd, ncpb]")
        r = api.post("/api/v1/mous", as_="parking", content=hijack.encode(), headers=YAML)
        assert r.status_code == 403 and r.json()["reason"] == "not_a_party", r.text
        assert "ncps-ncpd-video" in r.json()["message"] and "ncpb" in r.json()["message"]
        assert len(history(api)["versions"]) == 1
        assert api.post("/api/v1/mous", as_="operator", content=hijack.encode(), headers=YAML).status_code == 201
        for actor in ("officer", "auditor", "chief", "operator", "parking", "fire"):
            assert api.get("/api/v1/mou-versions", as_=actor).status_code == 200  # reading never fails


def test_a_withdrawal_racing_the_last_approval_never_leaves_a_version_in_force_unsigned(mou_api: Api) -> None:
    api = mou_api
    sha = draft(api, v4(effective="2026-07-01")).json()["sha256"]
    mous = api.services.mous
    assert mous is not None
    mous.approve(principal("operator"), MOU, 4, sha)
    withdrawn, approved = race(
        lambda: mous.withdraw(principal("operator"), MOU, 4),
        lambda: mous.approve(principal("chief"), MOU, 4, sha),
    )
    (v,) = [v for v in history(api)["versions"] if v["version"] == 4]
    standing = sorted(a["agency"] for a in v["approvals"])
    if isinstance(withdrawn, MouStateConflict):  # the approval came first: in force, and it stays signed
        assert v["state"] == "in_force" and standing == ["ncpd", "ncps"], v
        assert "until it takes effect" in withdrawn.message
    else:  # the withdrawal came first: the chief's approval alone proposes it
        assert not isinstance(approved, CamgateError), approved
        assert v["state"] == "proposed" and standing == ["ncpd"], v
    r = api.post(f"/api/v1/mous/{MOU}/versions/4/withdraw", as_="operator")
    assert r.status_code == 409 and r.json()["error"] == "mou_state", r.text


def test_a_withdrawal_over_http_takes_the_approval_back_and_stays_verifiable(mou_api: Api) -> None:
    api = mou_api
    sha = draft(api, v4()).json()["sha256"]
    assert api.post(f"/api/v1/mous/{MOU}/versions/4/approve", as_="operator", json={"sha256": sha}).status_code == 200
    r = api.post(f"/api/v1/mous/{MOU}/versions/4/withdraw", as_="superintendent")  # same agency, another approver
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "draft" and r.json()["approvals"] == []
    assert [a["agency"] for a in r.json()["stale_approvals"]] == ["ncps"]
    assert api.post(f"/api/v1/mous/{MOU}/versions/4/withdraw", as_="chief").status_code == 409  # none of its own
    assert api.post(f"/api/v1/mous/{MOU}/versions/4/withdraw", as_="parking").status_code == 403
    (record,) = api.audit(kind="mou.withdraw")
    assert record["details"]["sha256"] == sha and record["details"]["agency"] == "ncps"
    assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"]

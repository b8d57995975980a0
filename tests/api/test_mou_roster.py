"""MOU rosters over real HTTP (issue 14, item 5): a non-rostered officer is denied ``not_on_roster``, a rostered one
allowed, from the very next request; with ``countersign: true`` a revision needs every party's approval; bad input;
every change audited. Both sources: MOUs in the store and MOUs in files (the roster is in the store either way)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.mou_support import PARTIES
from tests.api.support import MOUS, Api
from tests.paths import MODEL

V3 = (MOUS / "mou-ncps-ncpd.yaml").read_text(encoding="utf-8")
ROSTERED = V3 + "roster:\n  agencies: [ncpd]\n"
COUNTERSIGNED = V3 + "roster: {agencies: [ncpd], countersign: true}\n"
ROSTER = "/api/v1/mous/ncps-ncpd-video/roster"
KIM = {"agency": "ncpd", "sub": "officer-17", "name": "Officer Kim"}  # the tests' "officer"
LEE = {"agency": "ncpd", "sub": "officer-22", "name": "Officer Lee"}  # "officer2"


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def store_mode(make_api: Callable[..., contextlib.AbstractContextManager[Api]], text: str) -> Iterator[Api]:
    with make_api(mous={"source": "store", "parties": PARTIES}) as api:
        mous = api.services.mous
        assert mous is not None
        files = [
            ("mou-ncps-ncpd.yaml", text.encode()),
            ("mou-ncpb-ncpd.yaml", (MOUS / "mou-ncpb-ncpd.yaml").read_bytes()),
        ]
        mous.import_texts(files, {"principal_sub": "test"})
        api.services.reloader.reload("test")
        yield api


@pytest.fixture
def rostered(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    yield from store_mode(make_api, ROSTERED)


@pytest.fixture
def countersigned(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    yield from store_mode(make_api, COUNTERSIGNED)


@contextlib.contextmanager
def files_mode(make_api: Callable[..., contextlib.AbstractContextManager[Api]], tmp_path: Path) -> Iterator[Api]:
    mous = tmp_path / "mous"
    mous.mkdir()
    (mous / "mou-ncps-ncpd.yaml").write_text(ROSTERED, encoding="utf-8")
    (mous / "mou-ncpb-ncpd.yaml").write_bytes((MOUS / "mou-ncpb-ncpd.yaml").read_bytes())
    policy = {"inventory": tmp_path / "inventory.yaml", "mous": [mous], "model": MODEL}
    with make_api(policy=policy, mous={"source": "files", "parties": PARTIES}) as api:
        yield api


@pytest.fixture(params=["store", "files"])
def either(
    request: pytest.FixtureRequest, make_api: Callable[..., contextlib.AbstractContextManager[Api]], tmp_path: Path
) -> Iterator[Api]:
    if request.param == "store":
        yield from store_mode(make_api, ROSTERED)
    else:
        with files_mode(make_api, tmp_path) as api:
            yield api


def put(api: Api, entries: list[dict[str, str]], as_: str = "operator") -> httpx.Response:
    return api.client.put(ROSTER, headers=api.headers(as_), json={"entries": entries})


def live(api: Api, as_: str = "officer") -> tuple[bool, str]:
    camera = api.cameras(as_)["saxe-ext-01"]["live"]
    return bool(camera["allowed"]), str(camera["reason"])


def denied_live(api: Api, as_: str = "officer") -> Any:
    r = api.live("saxe-ext-01", as_=as_)
    assert r.status_code == 403, r.text
    return r.json()


def test_only_the_rostered_officer_may_use_the_mou_from_the_next_request(either: Api) -> None:
    api = either
    body = api.get(ROSTER, as_="operator").json()
    assert (body["revision"], body["entries"], body["required_for"], body["state"]) == (0, [], ["ncpd"], "in_force")
    refusal = denied_live(api)  # no roster yet: nobody of ncpd
    assert (refusal["reason"], refusal["mou"], refusal["clause"]) == ("not_on_roster", "ncps-ncpd-video", "4.1")
    generation = api.services.live.generation
    r = put(api, [KIM])
    assert r.status_code == 200, r.text
    assert (r.json()["revision"], r.json()["entries"]) == (1, [KIM])
    assert api.services.live.generation == generation + 1  # announced: every replica follows
    assert api.live("saxe-ext-01").status_code == 200  # the next request
    assert denied_live(api, "officer2")["reason"] == "not_on_roster"
    assert live(api, "officer2") == (False, "not_on_roster")
    assert put(api, [LEE]).status_code == 200  # Kim off, Lee on
    assert denied_live(api)["reason"] == "not_on_roster"
    assert api.live("saxe-ext-01", as_="officer2").status_code == 200
    history = api.get(ROSTER, as_="chief").json()["history"]
    assert [(h["revision"], h["added"], h["removed"], h["state"]) for h in history] == [
        (1, ["officer-17"], [], "superseded"),
        (2, ["officer-22"], ["officer-17"], "in_force"),
    ]
    records = api.audit(kind="mou.roster")
    assert [(r["details"]["revision"], r["details"]["added"], r["details"]["removed"]) for r in records] == [
        (1, ["officer-17"], []),
        (2, ["officer-22"], ["officer-17"]),
    ]
    assert records[0]["principal_sub"] == "it-admin-1" and records[0]["mou"] == "ncps-ncpd-video"
    # the parking MOU has no roster: its officers are not asked for one
    assert api.services.catalog.pdp.policy.mous["ncpb-ncpd-video"].roster_agencies == frozenset()


def test_the_same_entries_make_no_new_revision_and_a_recipient_editor_keeps_its_own(rostered: Api) -> None:
    api = rostered
    assert put(api, [KIM]).json()["revision"] == 1
    assert put(api, [KIM]).json()["revision"] == 1  # idempotent
    r = put(api, [KIM, LEE], as_="supervisor")  # ncpd's editor, its own agency's entries
    assert r.status_code == 200 and r.json()["revision"] == 2, r.text
    assert [r["details"]["added"] for r in api.audit(kind="mou.roster")] == [["officer-17"], ["officer-22"]]


def test_countersigned_roster_needs_every_party(countersigned: Api) -> None:
    api = countersigned
    r = put(api, [KIM])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["state"], body["revision"], body["countersign"]) == ("pending", 0, True)
    sha = body["pending"]["sha256"]
    assert body["pending"]["missing"] == ["ncps", "ncpd"]
    assert denied_live(api)["reason"] == "not_on_roster"  # not in force yet
    wrong = api.post(f"{ROSTER}/approve", as_="operator", json={"sha256": "0" * 64})
    assert wrong.status_code == 409 and wrong.json()["sha256"] == sha
    assert api.post(f"{ROSTER}/approve", as_="officer", json={"sha256": sha}).status_code == 403  # not an approver
    one = api.post(f"{ROSTER}/approve", as_="operator", json={"sha256": sha})
    assert one.status_code == 200 and one.json()["pending"]["missing"] == ["ncpd"], one.text
    assert api.post(f"{ROSTER}/approve", as_="superintendent", json={"sha256": sha}).status_code == 409  # ncps did
    assert denied_live(api)["reason"] == "not_on_roster"  # one party only
    both = api.post(f"{ROSTER}/approve", as_="chief", json={"sha256": sha})
    assert both.status_code == 200, both.text
    assert (both.json()["state"], both.json()["revision"], both.json()["pending"]) == ("in_force", 1, None)
    assert api.live("saxe-ext-01").status_code == 200
    # a change needs approvals again; the approved revision stays in force meanwhile
    pending = put(api, [LEE]).json()
    assert pending["state"] == "pending" and pending["entries"] == [KIM]
    assert api.live("saxe-ext-01").status_code == 200
    assert [r["details"]["agency"] for r in api.audit(kind="mou.roster_approve")] == ["ncps", "ncpd"]


def test_bad_input(rostered: Api) -> None:
    api = rostered

    def field(entries: Any, as_: str = "operator") -> tuple[int, Any]:
        r = api.client.put(ROSTER, headers=api.headers(as_), json={"entries": entries})
        return r.status_code, r.json().get("field") or r.json().get("reason")

    assert field([KIM, KIM | {"name": "Again"}]) == (422, "entries[1].sub")
    assert field([KIM | {"name": "  "}]) == (422, "entries[0].name")
    assert field([KIM | {"agency": "ncps"}]) == (422, "entries[0].agency")
    assert field([KIM | {"extra": "x"}])[0] == 422
    assert field([{"agency": "ncpd", "sub": f"u{i}", "name": "N"} for i in range(5001)])[0] == 422
    assert field([KIM], as_="parking") == (403, "not_a_party")
    assert field([KIM], as_="officer")[0] == 403  # a party, but no editor role
    assert api.get(ROSTER, as_="parking").json()["reason"] == "not_a_party"
    assert api.get("/api/v1/mous/nope/roster", as_="operator").status_code == 404
    parking = "/api/v1/mous/ncpb-ncpd-video/roster"
    r = api.client.put(parking, headers=api.headers("supervisor"), json={"entries": []})
    assert (r.status_code, r.json()["state"]) == (409, "no_roster")  # the parking MOU names no roster
    approve = api.post(f"{ROSTER}/approve", as_="operator", json={"sha256": "0" * 64})
    assert approve.status_code == 409  # no countersign on this MOU
    assert api.get(ROSTER, as_="operator").json()["history"] == []  # nothing was kept


def test_another_replica_follows_a_roster_change(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]],
) -> None:
    one_mode = contextlib.contextmanager(store_mode)(make_api, ROSTERED)
    with one_mode as one, make_api(mous={"source": "store", "parties": PARTIES}) as two:
        assert denied_live(two)["reason"] == "not_on_roster"
        assert put(one, [KIM]).status_code == 200
        two.services.tick()  # housekeeping, every second: it follows the announced generation
        assert two.services.live.generation == one.services.live.generation
        assert two.live("saxe-ext-01").status_code == 200
        digests = [r["details"]["documents"] for r in two.audit(kind="policy.reload")[-2:]]
        assert digests[0]["roster:ncps-ncpd-video"] == digests[1]["roster:ncps-ncpd-video"]  # the same roster
        assert digests[1]["roster:ncps-ncpd-video"] == put(one, [KIM]).json()["sha256"]


def test_files_that_no_longer_load_keep_the_roster_for_the_next_reload(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]], tmp_path: Path
) -> None:
    with files_mode(make_api, tmp_path) as api:
        school = tmp_path / "mous" / "mou-ncps-ncpd.yaml"
        school.write_text(ROSTERED.replace("version: 3", "version: three"), encoding="utf-8")
        r = put(api, [KIM])
        assert r.status_code == 200 and r.json()["revision"] == 1, r.text  # kept...
        assert denied_live(api)["reason"] == "not_on_roster"  # ...but the policy could not be reloaded
        school.write_text(ROSTERED, encoding="utf-8")
        assert api.post("/api/v1/admin/reload", as_="operator").status_code == 200
        assert api.live("saxe-ext-01").status_code == 200

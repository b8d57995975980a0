"""School IT classifies a camera over real HTTP (issue 14, item 7): shared per the MOU at the next request, the
inventory file edited in place with its comments, every refusal, and the store as the authority (its overlay bound
to the audit chain)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from broker.audit.bindings import verify_bindings
from broker.store.tables import camera_classifications
from tests.api.mou_support import PARTIES, import_demo_mous
from tests.api.support import Api

NEW = "saxe-new-01"
COMMENT = "# School IT keeps this file by hand: keep this comment.\n"
EXTERIOR = {"site": "ncps-saxe", "building": "main", "zone": "exterior", "location": {"lat": 41.1489, "lon": -73.4958}}

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def inventory(tmp_path: Path, make_api: MakeApi) -> Path:
    """The test inventory (written by make_api's fixture), with a comment of school IT's at the top."""
    path = tmp_path / "inventory.yaml"
    path.write_text(COMMENT + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@contextlib.contextmanager
def store_api(make_api: MakeApi) -> Iterator[Api]:
    with make_api(mous={"source": "store", "parties": PARTIES}) as api:
        import_demo_mous(api)
        yield api


def classify(api: Api, body: Any, camera: str = NEW, as_: str | None = "operator", **kw: Any) -> httpx.Response:
    headers = api.headers(as_) | kw.pop("headers", {})
    if "content" not in kw:
        kw["json"] = body
    return api.client.put(f"/api/v1/cameras/{camera}/classification", headers=headers, **kw)


def reason(api: Api, camera: str = NEW, as_: str = "officer") -> str:
    r = api.live(camera, as_=as_)
    return "allowed" if r.status_code == 200 else str(r.json().get("reason"))


def test_a_classified_camera_becomes_shared_per_the_mou_at_the_next_request(inventory: Path, make_api: MakeApi) -> None:
    with make_api() as api:
        assert reason(api) == "unclassified_camera"
        todo = api.get("/api/v1/inventory/unclassified", as_="operator").json()
        assert NEW in {c["id"] for c in todo["cameras"]}
        sites = {s["id"]: s for s in todo["sites"]}  # the form's choices: the operator's agency's sites only
        assert sorted(sites) == ["ncps-east", "ncps-saxe"] and sites["ncps-saxe"]["buildings"] == ["gym", "main"]
        assert sites["ncps-saxe"]["zones"] == [
            {"id": "exterior", "never": False},
            {"id": "interior", "never": False},
            {"id": "restricted", "never": True},
        ]
        before = inventory.read_text(encoding="utf-8")
        r = classify(api, EXTERIOR)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["changed"] and body["kept"] == "files" and body["file_edited"]
        assert body["before"] == {"site": "ncps-saxe", "building": "main", "zone": None, "location": None}
        assert body["after"] == EXTERIOR
        assert reason(api) == "allowed"  # the very next request, MOU clause 4.1 (exterior, always)
        assert reason(api, as_="parking") == "no_mou"
        assert NEW not in {c["id"] for c in api.get("/api/v1/inventory/unclassified", as_="operator").json()["cameras"]}
        after = inventory.read_text(encoding="utf-8")
        assert after.startswith(COMMENT)  # edited in place: only the camera's line changed
        changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
        assert len(changed) == 1 and f"id: {NEW}" in changed[0][1]
        assert "zone: exterior" in changed[0][1] and "location: {lat: 41.1489, lon: -73.4958}" in changed[0][1]
        assert body["inventory_sha256"] == hashlib.sha256(after.encode()).hexdigest()
        (rec,) = api.audit(kind="camera.classify")
        assert (rec["principal_sub"], rec["camera"]) == ("it-admin-1", NEW)
        assert rec["details"]["before"]["zone"] is None and rec["details"]["after"]["zone"] == "exterior"
        assert rec["details"]["inventory_sha256"] == body["inventory_sha256"]
        never = classify(api, EXTERIOR | {"zone": "restricted", "location": None})
        assert never.status_code == 200, never.text
        assert reason(api) == "never_shared_zone"  # contract §4: a never zone, whatever the grants
        assert "location" not in inventory.read_text(encoding="utf-8").splitlines()[len(COMMENT.splitlines()) :][-1]
        again = classify(api, EXTERIOR | {"zone": "restricted", "location": None})
        assert again.json()["changed"] is False and len(api.audit(kind="camera.classify")) == 2  # nothing new


def test_bad_input_is_refused_naming_the_field(inventory: Path, make_api: MakeApi) -> None:
    with make_api() as api:
        original = inventory.read_bytes()
        r = classify(api, EXTERIOR | {"zone": "gym"})
        assert (r.status_code, r.json()["field"]) == (422, "zone")
        assert "'gym'" in r.json()["message"] and "exterior, interior, restricted" in r.json()["message"]
        r = classify(api, EXTERIOR | {"site": "ncps-nowhere"})
        assert (r.status_code, r.json()["field"]) == (422, "site")
        r = classify(api, EXTERIOR | {"site": "ncpb-lots"})  # another agency's site
        assert (r.status_code, r.json()["field"]) == (422, "site")
        r = classify(api, EXTERIOR | {"building": "annex"})
        assert (r.status_code, r.json()["field"]) == (422, "building") and "gym, main" in r.json()["message"]
        assert classify(api, EXTERIOR, camera="nope-01").status_code == 404
        assert classify(api, EXTERIOR, as_="officer").json()["reason"] == "not_an_operator"
        assert classify(api, EXTERIOR, as_=None).status_code == 401
        pb_it = api.mint("pb-it", "ncpb", ["operator"])
        r = api.client.put(
            f"/api/v1/cameras/{NEW}/classification", headers={"Authorization": f"Bearer {pb_it}"}, json=EXTERIOR
        )
        assert (r.status_code, r.json()["reason"]) == (403, "not_camera_owner")
        for body, field in (
            ({k: v for k, v in EXTERIOR.items() if k != "zone"}, "zone"),
            (EXTERIOR | {"location": {"lat": 91, "lon": 0}}, "location.lat"),
            (EXTERIOR | {"colour": "red"}, "colour"),
            (EXTERIOR | {"site": "Not An Id"}, "site"),
            ([EXTERIOR], None),
        ):
            r = classify(api, body)
            assert r.status_code == 422, (body, r.text)
            if field is not None:
                assert r.json()["field"] == field, r.json()
        assert classify(api, None, content=b"{", headers={"Content-Type": "application/json"}).status_code in (400, 422)
        assert inventory.read_bytes() == original and api.audit(kind="camera.classify") == []
        assert reason(api) == "unclassified_camera"


def test_a_change_the_whole_inventory_refuses_is_a_422_with_its_lines(inventory: Path, make_api: MakeApi) -> None:
    with make_api() as api:
        text = inventory.read_text(encoding="utf-8")
        inventory.write_text(text.replace("  - {id: pb-body-01", "  - {id: pb-body-01, colour: red"), encoding="utf-8")
        r = classify(api, EXTERIOR)  # the file on disk no longer validates: nothing is written over it
        assert r.status_code == 422 and r.json()["error"] == "invalid_document", r.text
        assert any("colour" in line for line in r.json()["lines"])
        assert reason(api) == "unclassified_camera"


def test_a_file_changed_meanwhile_or_not_writable_is_a_409(
    inventory: Path, make_api: MakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_api() as api:
        monkeypatch.setattr("broker.admin.classify._writable", lambda path: False)
        r = classify(api, EXTERIOR)
        assert r.status_code == 409 and "not writable" in r.json()["message"]
        assert reason(api) == "unclassified_camera" and api.audit(kind="camera.classify") == []


def test_store_mode_keeps_it_in_the_store_bound_to_its_record(
    inventory: Path, make_api: MakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = inventory.read_bytes()
    with store_api(make_api) as api:
        monkeypatch.setattr("broker.admin.classify._writable", lambda path: False)  # e.g. a read-only ConfigMap
        assert reason(api) == "unclassified_camera"
        r = classify(api, EXTERIOR)
        assert r.status_code == 200, r.text
        assert (r.json()["kept"], r.json()["file_edited"]) == ("store", False)
        assert reason(api) == "allowed"
        assert inventory.read_bytes() == original  # this replica's file is as it was
        (rec,) = api.audit(kind="camera.classify")
        assert rec["details"]["kept"] == "store"
        assert verify_bindings(api.services.store) == []
        monkeypatch.undo()
    with store_api(make_api) as api:  # a restart (or another replica): the store's classification holds
        assert reason(api) == "allowed"
        r = classify(api, EXTERIOR | {"zone": "restricted"})
        assert r.status_code == 200 and not r.json()["file_edited"], r.text  # writable, but the store keeps it
        assert inventory.read_bytes() == original  # the file is left as it is (make demo: the checked-in example)
        assert reason(api) == "never_shared_zone"
        assert verify_bindings(api.services.store) == []
        with api.services.store.engine.begin() as conn:  # an insider moves it back to exterior by hand
            conn.execute(update(camera_classifications).values(zone="exterior"))
        problems = verify_bindings(api.services.store)
        assert [(p.table, p.row, p.field) for p in problems] == [("camera_classifications", NEW, "zone")]


def test_store_mode_zone_errors_and_an_other_replica_follows(inventory: Path, make_api: MakeApi) -> None:
    with store_api(make_api) as api, store_api(make_api) as other:
        r = classify(api, EXTERIOR | {"zone": "gym"})
        assert (r.status_code, r.json()["field"]) == (422, "zone")
        assert classify(api, EXTERIOR).status_code == 200
        assert reason(other) == "unclassified_camera"  # until its next housekeeping tick
        other.services.tick()
        assert reason(other) == "allowed"


def test_a_file_that_cannot_be_replaced_is_a_409_in_files_mode_and_the_store_keeps_it_in_store_mode(
    inventory: Path, make_api: MakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("broker.admin.classify.replace_if_unchanged", refuse)
    with make_api() as api:
        r = classify(api, EXTERIOR)
        assert r.status_code == 409 and "could not be written (Permission denied)" in r.json()["message"]
        assert api.audit(kind="camera.classify") == [] and reason(api) == "unclassified_camera"
    with store_api(make_api) as api:
        r = classify(api, EXTERIOR)
        assert r.status_code == 200 and r.json()["file_edited"] is False, r.text
        assert reason(api) == "allowed"
        assert [rec["details"]["file_edited"] for rec in api.audit(kind="camera.classify")] == [False]

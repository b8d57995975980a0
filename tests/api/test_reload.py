"""Live reload through the API: validated whole, swapped atomically, recorded, followed by other replicas."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import MOUS, Api

RELOAD = "/api/v1/admin/reload"


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A writable copy of the MOU documents (school IT's folder)."""
    target = tmp_path / "mou"
    shutil.copytree(MOUS, target)
    return target


@pytest.fixture
def make_reloadable(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]], docs: Path, tmp_path: Path
) -> Callable[..., contextlib.AbstractContextManager[Api]]:
    def make(**settings: Any) -> contextlib.AbstractContextManager[Api]:
        policy = {"inventory": tmp_path / "inventory.yaml", "mous": [docs]}
        return make_api(policy=policy | settings.pop("policy", {}), **settings)

    return make


@pytest.fixture
def api(make_reloadable: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with make_reloadable() as running:
        yield running


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def school_mou(docs: Path) -> Path:
    return docs / "mou-ncps-ncpd.yaml"


def reload_records(api: Api) -> list[dict[str, Any]]:
    return api.audit(kind="policy.reload")


def test_a_reload_that_changes_a_grant_changes_the_very_next_decision(api: Api, docs: Path) -> None:
    assert api.live("saxe-ext-01").status_code == 200
    assert api.live("saxe-int-01").json()["reason"] == "no_emergency"
    # Amendment: clause 4.1 no longer includes live video; clause 4.2 no longer needs an emergency.
    edit(
        school_mou(docs),
        "actions: [live, snapshot, playback]\n    when: always",
        "actions: [snapshot]\n    when: always",
    )
    edit(
        school_mou(docs),
        "zones: [interior]\n    actions: [live, snapshot, playback]\n    when: emergency\n    playback: {from: -30s}",
        "zones: [interior]\n    actions: [live, snapshot, playback]\n    when: always",
    )
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcome"] == "applied" and body["generation"] == 1 and body["trigger"] == "api"
    denied = api.live("saxe-ext-01")
    assert denied.status_code == 403 and denied.json()["reason"] == "no_matching_grant"
    assert api.live("saxe-int-01").status_code == 200


def test_every_reload_is_recorded_with_the_sha256_of_every_document(api: Api, docs: Path, tmp_path: Path) -> None:
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 200, r.text
    files = [tmp_path / "inventory.yaml", *sorted(docs.glob("*.yaml"))]
    expected = {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert r.json()["documents"] == expected
    (rec,) = reload_records(api)
    assert rec["details"]["documents"] == expected and rec["details"]["outcome"] == "applied"
    assert rec["principal_sub"] == "it-admin-1" and rec["details"]["generation"] == 1
    assert api.get("/readyz", as_=None).json()["generation"] == 1
    assert api.get("/readyz", as_=None).json()["documents"] == r.json()["digest"]


def test_a_broken_mou_keeps_the_old_policy_and_answers_every_error_with_its_line(api: Api, docs: Path) -> None:
    before = api.services.catalog
    mou = school_mou(docs)
    edit(
        mou,
        "    zones: [interior]\n    actions: [live, snapshot, playback]",
        "    zones: [gymnasium]\n    actions: [live, fly]",
    )
    edit(mou, "  default_duration: 60m", "  default_duration: 60m\n  colour: blue")
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_document"
    lines = mou.read_text().splitlines()
    errors = body["lines"]
    assert f"{mou}:{lines.index('    actions: [live, fly]') + 1}: grants.1.actions.1: unknown action 'fly'" in errors[0]
    assert any(
        e.startswith(f"{mou}:{lines.index('  colour: blue') + 1}: emergency.colour: unknown key") for e in errors
    )
    assert len(errors) == 2, errors
    # Exactly as it was: the same catalog object, the same answers, the same generation.
    assert api.services.catalog is before and api.services.live.generation == 0
    assert api.live("saxe-ext-01").status_code == 200
    (rec,) = reload_records(api)
    assert rec["details"]["outcome"] == "refused" and rec["details"]["errors"] == errors


def test_every_file_is_checked_not_only_the_first_broken_one(api: Api, docs: Path, tmp_path: Path) -> None:
    edit(tmp_path / "inventory.yaml", "kind: parking}", "kind: carpark}")
    edit(docs / "mou-ncpb-ncpd.yaml", "version: ", "version: -")
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 422
    files = {e.split(":", 1)[0] for e in r.json()["lines"]}
    assert files == {str(tmp_path / "inventory.yaml"), str(docs / "mou-ncpb-ncpd.yaml")}


def test_bad_adapter_settings_refuse_the_reload_at_the_systems_line(api: Api, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    edit(inventory, "adapter: hls, base_url", "adapter: genetec, base_url")
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 422
    (error,) = r.json()["lines"]
    line = next(i for i, text in enumerate(inventory.read_text().splitlines(), 1) if "genetec" in text)
    assert error.startswith(
        f"{inventory}:{line}: systems.0.adapter: system 'ncps-vms': setting 'adapter': unknown adapter 'genetec'"
    )
    assert api.live("saxe-ext-01").status_code == 200


def test_a_reload_refuses_every_bad_system_with_the_lines_validate_prints(api: Api, tmp_path: Path) -> None:
    from broker.inventory.validate import validate_inventory

    inventory = tmp_path / "inventory.yaml"
    edit(inventory, "adapter: hls, base_url", "adapter: genetec, base_url")
    edit(inventory, "timeout_seconds: 0.5,", "timeout_seconds: 0.5, playlist_pth: x,")
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 422
    assert r.json()["lines"] == validate_inventory([inventory]) and len(r.json()["lines"]) == 2
    assert api.live("saxe-ext-01").status_code == 200


def test_silent_mistakes_are_applied_with_warnings_the_school_it_page_reads(
    api: Api, tmp_path: Path, docs: Path
) -> None:
    """Issue 13 item 19: an expired MOU and a zone typo loaded as plain "applied"; now the reload says both, and
    GET /api/v1/inventory/unclassified (School IT's page) carries them."""
    inventory = tmp_path / "inventory.yaml"
    edit(
        inventory,
        "name: Library, site: ncps-saxe, building: main, zone: interior",
        "name: Library, site: ncps-saxe, building: main, zone: intrior",
    )
    edit(school_mou(docs), "expires: 2027-06-30", "expires: 2026-09-13")  # the clock is at 2026-09-14
    r = api.post(RELOAD, as_="operator")
    assert r.status_code == 200, r.text
    warnings = r.json()["warnings"]
    mou_line = next(i for i, t in enumerate(school_mou(docs).read_text().splitlines(), 1) if t.startswith("expires:"))
    cam_line = next(i for i, t in enumerate(inventory.read_text().splitlines(), 1) if "intrior" in t)
    assert warnings[0].startswith(
        f"{school_mou(docs)}:{mou_line}: warning: expires: MOU 'ncps-ncpd-video' expired on 2026-09-13"
    )
    assert warnings[1].startswith(f"{inventory}:{cam_line}: warning: cameras.")
    assert "zone 'intrior' of camera 'saxe-int-02'" in warnings[1] and "Did you mean 'interior'?" in warnings[1]
    assert "(zones there: exterior, interior, restricted)" in warnings[1]
    body = api.get("/api/v1/inventory/unclassified?site=ncps-saxe", as_="operator").json()
    assert [(w["code"], w["subject"], w["line"]) for w in body["warnings"]] == [
        ("mou_expired", "ncps-ncpd-video", mou_line),
        ("unknown_zone", "saxe-int-02", cam_line),
    ]
    assert body["warnings"][0]["document"] == "mou-ncps-ncpd.yaml"
    other = api.get("/api/v1/inventory/unclassified?site=ncpb-lots", as_="operator").json()["warnings"]
    assert [w["code"] for w in other] == []  # neither the school MOU nor the camera is at the parking lots


def test_the_warnings_are_logged_at_start_up(
    make_reloadable: Callable[..., contextlib.AbstractContextManager[Api]], docs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edit(school_mou(docs), "effective: 2026-07-01", "effective: 2026-10-01")  # the clock is at 2026-09-14
    with caplog.at_level("WARNING", logger="camgate"), make_reloadable():
        pass
    (line,) = [r.getMessage() for r in caplog.records if ": warning: " in r.getMessage()]
    assert line.startswith(f"{school_mou(docs)}:7: warning: effective: MOU 'ncps-ncpd-video' is not in force yet")


def test_a_camera_removed_by_a_reload_is_cut_at_the_viewers_next_request(api: Api, tmp_path: Path) -> None:
    (segment, *_) = api.playlist_uris("saxe-ext-01")
    assert api.get(segment, as_=None).status_code == 200
    edit(tmp_path / "inventory.yaml", "  - {id: saxe-ext-01,", "  - {id: saxe-ext-99,")
    assert api.post(RELOAD, as_="operator").status_code == 200
    r = api.get(segment, as_=None)
    assert r.status_code == 404 and r.json()["error"] == "unknown_camera"
    assert api.live("saxe-ext-01").status_code == 404
    ends = api.audit(kind="session.end", camera="saxe-ext-01")
    assert [e["reason"] for e in ends] == ["access_revoked:unknown_camera"]


def test_only_operators_reload(api: Api) -> None:
    assert api.post(RELOAD, as_=None).status_code == 401
    for actor in ("officer", "auditor", "principal"):
        r = api.post(RELOAD, as_=actor)
        assert r.status_code == 403 and r.json()["reason"] == "not_an_operator"
    assert reload_records(api) == []


def test_operator_agencies_limit_who_counts(make_reloadable: Callable[..., Any]) -> None:
    with make_reloadable(admin={"operator_agencies": ["ncpd"]}) as api:
        assert api.post(RELOAD, as_="operator").status_code == 403  # an ncps operator
        assert (
            api.post(
                RELOAD, as_=None, headers={"Authorization": f"Bearer {api.mint('ops', 'ncpd', ['operator'])}"}
            ).status_code
            == 200
        )


def test_no_audit_record_no_change(api: Api, docs: Path) -> None:
    edit(
        school_mou(docs),
        "actions: [live, snapshot, playback]\n    when: always",
        "actions: [snapshot]\n    when: always",
    )
    api.sql("ALTER TABLE audit_records RENAME TO audit_records_away")
    try:
        r = api.post(RELOAD, as_="operator")
        assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"
        assert api.services.live.generation == 0
    finally:
        api.sql("ALTER TABLE audit_records_away RENAME TO audit_records")
    assert api.live("saxe-ext-01").status_code == 503  # failed closed until the store is seen writable again
    assert api.services.audit.probe()
    assert api.live("saxe-ext-01").status_code == 200  # still the old policy
    api.services.tick()  # the announced generation is applied here once it can be recorded
    assert api.services.live.generation == 1
    assert api.live("saxe-ext-01").status_code == 403


def test_another_replica_follows_the_generation(
    make_reloadable: Callable[..., contextlib.AbstractContextManager[Api]], docs: Path
) -> None:
    with make_reloadable() as one, make_reloadable() as two:
        edit(
            school_mou(docs),
            "actions: [live, snapshot, playback]\n    when: always",
            "actions: [snapshot]\n    when: always",
        )
        assert one.post(RELOAD, as_="operator").status_code == 200
        assert two.live("saxe-ext-01").status_code == 200  # not yet: it has not looked
        two.services.tick()
        assert two.get("/readyz", as_=None).json()["generation"] == 1
        assert two.live("saxe-ext-01").status_code == 403
        (mine, theirs) = reload_records(two)
        assert (mine["details"]["trigger"], theirs["details"]["trigger"]) == ("api", "replica")
        assert mine["details"]["digest"] == theirs["details"]["digest"]
        two.services.tick()
        assert len(reload_records(two)) == 2  # nothing new to follow


def test_a_replica_that_cannot_apply_a_generation_records_it_once(
    make_reloadable: Callable[..., contextlib.AbstractContextManager[Api]], docs: Path, tmp_path: Path
) -> None:
    other_docs = tmp_path / "other-mou"  # the second replica's copy of the documents, about to go wrong
    shutil.copytree(docs, other_docs)
    with make_reloadable() as one, make_reloadable(policy={"mous": [other_docs]}) as two:
        edit(other_docs / "mou-ncps-ncpd.yaml", "version: 3", "version: three")
        assert one.post(RELOAD, as_="operator").status_code == 200
        two.services.tick()
        two.services.tick()
        refused = [r for r in reload_records(two) if r["details"]["outcome"] == "refused"]
        assert len(refused) == 1 and refused[0]["details"]["trigger"] == "replica"
        assert refused[0]["details"]["errors"][0].startswith(f"{other_docs / 'mou-ncps-ncpd.yaml'}:5: version:")
        assert two.get("/readyz", as_=None).json()["generation"] == 0  # it says it lags
        assert two.live("saxe-ext-01").status_code == 200


def test_a_replica_started_after_a_reload_serves_the_current_generation(
    make_reloadable: Callable[..., contextlib.AbstractContextManager[Api]],
) -> None:
    with make_reloadable() as one:
        assert one.post(RELOAD, as_="operator").status_code == 200
        assert one.post(RELOAD, as_="operator").json()["generation"] == 2
    with make_reloadable() as two:
        assert two.get("/readyz", as_=None).json()["generation"] == 2

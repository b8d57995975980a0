"""Tampering with the stored MOUs by SQL (issue 14: an insider with database access): a forged approval, a
revision's text changed, a text flagged ``imported`` by hand, a termination or an approval deleted.
``GET /api/v1/audit/verify`` names each by table, row and field; and a forged or changed row never counts
for enforcement (broker/admin/mous/trust.py), even before anyone verifies. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, insert, select, update

from broker.store.tables import mou_approvals, mou_revisions, mou_terminations
from tests.api.support import Api
from tests.api.test_mou_admin import approve, draft, live_allowed, mou_api, store_url, v4

__all__ = ["mou_api", "store_url"]  # the fixtures, from the MOU administration tests
MOU = "ncps-ncpd-video"
NO_DISPATCH = {
    "roles: [officer, dispatcher, supervisor]\n    zones: [exterior]": "roles: [officer]\n    zones: [exterior]"
}


def named(api: Api) -> set[tuple[str, str, str]]:
    """What verification names, by (table, row, field); the chain itself is intact."""
    r = api.get("/api/v1/audit/verify", as_="auditor")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["chain_ok"] is True and answer["ok"] is (not answer["bindings"]), answer
    return {(p["table"], p["row"], p["field"]) for p in answer["bindings"]}


def sql(api: Api, statement: Any) -> int:
    with api.services.store.engine.begin() as conn:
        return int(conn.execute(statement).rowcount)


def row(api: Api, table: Any, *where: Any) -> Any:
    with api.services.store.engine.connect() as conn:
        return conn.execute(select(table).where(*where)).one()


def proposed(api: Api) -> str:
    """Version 4 (dispatchers lose live exterior video), approved by the school district only."""
    text = v4(effective="2026-07-01", **NO_DISPATCH)
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert draft(api, text).status_code == 201
    assert approve(api, 4, sha, "operator").json()["state"] == "proposed"
    return sha


def state(api: Api, version: int) -> str:
    found = api.get(f"/api/v1/mous/{MOU}/versions/{version}", as_="operator")
    assert found.status_code == 200, found.text
    return str(found.json()["state"])


def test_a_forged_approval_row_is_named_and_never_takes_effect(mou_api: Api) -> None:
    api = mou_api
    sha = proposed(api)
    assert named(api) == set()
    ncps = row(api, mou_approvals, mou_approvals.c.agency == "ncps")
    forged = {"mou": MOU, "version": 4, "sha256": sha, "sub": "chief-dunn", "role": "chief", "agency": "ncpd"}
    sql(api, insert(mou_approvals).values(**forged, approved_at=ncps.approved_at))  # unbound
    api.services.reloader.reload("test")
    assert state(api, 4) == "proposed" and live_allowed(api, "saxe-ext-01") is True
    assert api.cameras("dispatcher")["saxe-ext-01"]["live"]["allowed"]  # version 4 is not in force
    found = named(api)
    (forged_row,) = [r for t, r, f in found if t == "mou_approvals" and r.endswith(":ncpd#" + r.split("#")[-1])]
    assert ("mou_approvals", forged_row, "audit_seq") in found and forged_row.startswith(f"{MOU}@v4:ncpd#")

    # Copying the school's binding does not help: its record names ncps.
    sql(api, delete(mou_approvals).where(mou_approvals.c.agency == "ncpd"))
    copied = forged | {"audit_seq": ncps.audit_seq, "audit_hash": ncps.audit_hash}
    sql(api, insert(mou_approvals).values(**copied, approved_at=ncps.approved_at))
    api.services.reloader.reload("test")
    assert state(api, 4) == "proposed" and api.cameras("dispatcher")["saxe-ext-01"]["live"]["allowed"]
    assert any(t == "mou_approvals" and f == "agency" and ":ncpd#" in r for t, r, f in named(api))


def test_a_revision_text_changed_by_sql_is_named_and_no_longer_enforced(mou_api: Api) -> None:
    api = mou_api
    assert live_allowed(api)
    v3 = row(api, mou_revisions, mou_revisions.c.mou == MOU, mou_revisions.c.version == 3)
    wider = v3.text.replace("when: emergency", "when: always")  # interior video at all times
    sql(api, update(mou_revisions).where(mou_revisions.c.id == v3.id).values(text=wider))
    assert named(api) == {("mou_revisions", f"{MOU}@v3.1", "text")}
    api.services.reloader.reload("test")
    assert not api.cameras("officer").get("saxe-int-01", {}).get("live", {}).get("allowed")  # never wider
    assert not live_allowed(api, "saxe-ext-01") if "saxe-ext-01" in api.cameras("officer") else True  # fail closed

    # The hash changed with it: the record still names the signed text's hash.
    new_sha = hashlib.sha256(wider.encode()).hexdigest()
    sql(api, update(mou_revisions).where(mou_revisions.c.id == v3.id).values(sha256=new_sha))
    assert named(api) == {("mou_revisions", f"{MOU}@v3.1", "sha256")}
    api.services.reloader.reload("test")
    assert not api.cameras("officer").get("saxe-int-01", {}).get("live", {}).get("allowed")


def test_a_draft_flagged_imported_by_sql_is_named_and_not_put_in_force(mou_api: Api) -> None:
    api = mou_api
    text = v4(effective="2026-07-01", **NO_DISPATCH)
    assert draft(api, text).status_code == 201
    sql(api, update(mou_revisions).where(mou_revisions.c.version == 4).values(imported=True))
    api.services.reloader.reload("test")
    assert api.cameras("dispatcher")["saxe-ext-01"]["live"]["allowed"]  # version 3 still
    assert api.get(f"/api/v1/mous/{MOU}/versions/4", as_="operator").status_code == 404  # counted nowhere
    assert ("mou_revisions", f"{MOU}@v4.1", "imported") in named(api)


def test_a_deleted_termination_or_approval_is_named(mou_api: Api) -> None:
    api = mou_api
    proposed(api)
    assert sql(api, delete(mou_approvals).where(mou_approvals.c.agency == "ncps")) == 1
    assert named(api) == {("mou_approvals", f"{MOU}@v4:ncps", "id")}
    assert state(api, 4) == "draft"  # fail closed: the approval no longer counts

    r = api.post(f"/api/v1/mous/{MOU}/terminate", as_="chief", json={"reason": "The board ended the agreement"})
    assert r.status_code == 200, r.text
    assert sql(api, delete(mou_terminations).where(mou_terminations.c.mou == MOU)) == 1
    assert ("mou_terminations", f"{MOU}@v3", "id") in named(api)

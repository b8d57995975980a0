"""What the caller may do to a stored MOU (``can`` on the version and history answers, ``can_draft`` on the list):
the console shows only these controls, and each one matches what the action itself answers."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.api.support import Api
from tests.api.test_mou_admin import approve, draft, mou_api, v4

__all__ = ["mou_api"]  # the fixture, imported for pytest

MOU = "/api/v1/mous/ncps-ncpd-video"


def can(api: Api, as_: str, version: int | None = None) -> dict[str, Any]:
    path = f"{MOU}/versions/{version}" if version else f"{MOU}/versions"
    r = api.get(path, as_=as_)
    assert r.status_code == 200, r.text
    return dict(r.json()["can"])


def test_controls_follow_the_parties_roles_and_the_versions_state(mou_api: Api) -> None:
    api = mou_api
    none = {"draft": False, "approve": False, "withdraw": False, "terminate": False}
    # v3 is in force (imported): nothing to approve; editors may draft v4; either party's editors/approvers terminate.
    assert can(api, "operator") == none | {"draft": True, "terminate": True}
    assert can(api, "chief") == none | {"terminate": True}  # ncpd: the chief approves but does not draft
    assert can(api, "supervisor") == none | {"draft": True, "terminate": True}
    assert can(api, "officer") == none
    assert can(api, "auditor", 3) == none  # an oversight reader, no party role
    lists = {a: api.get("/api/v1/mou-versions", as_=a).json()["can_draft"] for a in ("operator", "chief", "officer")}
    assert lists == {"operator": True, "chief": False, "officer": False}

    text = v4()
    r = draft(api, text)
    assert r.status_code == 201 and r.json()["can"] == none | {"draft": True, "approve": True, "terminate": True}
    assert can(api, "operator", 3)["draft"] is False  # only the newest version takes a new text
    assert can(api, "chief", 4) == none | {"approve": True, "terminate": True}
    sha = hashlib.sha256(text.encode()).hexdigest()
    r = approve(api, 4, sha, "operator")
    assert r.json()["can"] == none | {"draft": True, "withdraw": True, "terminate": True}
    assert can(api, "chief", 4)["approve"] is True and can(api, "superintendent", 4)["approve"] is False  # ncps did
    assert approve(api, 4, sha, "chief").json()["can"] == none | {"withdraw": True, "terminate": True}

    r = api.post(f"{MOU}/terminate", as_="chief", json={"reason": "the district ended the agreement"})
    assert r.status_code == 200 and r.json()["can"] == none
    assert can(api, "operator", 4) == none

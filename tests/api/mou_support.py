"""MOUs kept by the broker in the API tests: the parties' roles, and the demo MOUs imported into the store."""

from __future__ import annotations

from typing import Any

from broker.documents import mou_files
from tests.api.support import MOUS, Api

#: settings ``mous.parties`` of the tests' store-mode apps (the roles of tests/api/support.py's ACTORS)
PARTIES: dict[str, dict[str, list[str]]] = {
    "ncps": {"editors": ["operator"], "approvers": ["operator", "superintendent"]},
    "ncpd": {"editors": ["supervisor"], "approvers": ["chief"]},
}
STORE_MODE: dict[str, Any] = {"source": "store", "parties": PARTIES}


def import_demo_mous(api: Api, *, reload: bool = True) -> None:
    """``policies/mou`` imported as the versions in force (as ``camgate mou import``), then reloaded."""
    mous = api.services.mous
    assert mous is not None
    mous.import_texts([(str(p), p.read_bytes()) for p in mou_files([MOUS])], {"principal_sub": "test"})
    if reload:
        api.services.reloader.reload("test")

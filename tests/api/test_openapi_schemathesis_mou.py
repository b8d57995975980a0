"""schemathesis (``--checks all``) as the roles that may change the demo MOU, on a broker of their own (issue 14).

School IT and the superintendent draft, approve and terminate for the school district, the chief approves and
terminates for the police. School IT runs first and, sending a schema-valid reason, terminates the demo MOU (the
route's success, covered rather than hidden); the superintendent's and the chief's runs then meet a terminated
MOU (409 ``mou_state``, documented) on the write routes and read it on the others. Nothing else uses this broker.
See ``test_openapi_schemathesis.py`` for what every run checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.broker_process import BrokerProcess
from tests.api.schemathesis_support import run_role, started_broker

MOU_ROLES = ("school_it", "superintendent", "chief")

pytestmark = pytest.mark.video


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    yield from started_broker(tmp_path_factory.mktemp("schemathesis-mou-broker"))


@pytest.mark.parametrize("role", MOU_ROLES)
def test_schemathesis_finds_no_disagreement_as_mou_parties(broker: BrokerProcess, role: str, tmp_path: Path) -> None:
    run_role(broker, role, tmp_path, first=role == MOU_ROLES[0])

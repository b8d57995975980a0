"""schemathesis (``--checks all``) against a real running broker, once per role: zero failures, zero errors.

The broker is ``camgate demo`` in a subprocess (``tests/api/broker_process.py``): dev mode, SQLite in a
temporary directory, the simulated VMS with real ffmpeg cameras, tokens from ``camgate token``. Every answer
must be one the description documents (status, media type, body schema, headers such as ``WWW-Authenticate``
and ``Allow``), schema-valid requests must be accepted and schema-invalid ones refused, and every operation
that needs a token must refuse a request without one.

Settings (``tests/api/schemathesis.toml``): a fixed seed (reproducible; ``CAMGATE_SCHEMATHESIS_SEED=N`` tries
another), 20 fuzzing examples per operation plus the coverage phase's boundary cases, the examples phase and
10 stateful scenarios of at most 6 steps, one worker, a 30 s request timeout (an encoder's start) and a hard
300 s process timeout here, so a run can never hang ``make test``. The roles run in order against one broker;
the dispatcher may declare emergencies, which only moves other roles' answers between documented statuses.

The demo keeps its MOUs in the store (issue 14), and school IT may terminate the demo MOU: any schema-valid reason
(10 characters or more) does, and schemathesis sends one. That is coverage of the route's success, not something
to hide, so the roles that may change the MOU run in ``test_openapi_schemathesis_mou.py`` on a broker of their own:
this module's roles fuzz the demo as it starts. Shared code: ``schemathesis_support.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.broker_process import BrokerProcess
from tests.api.schemathesis_support import run_role, started_broker

PLAIN_ROLES = ("officer", "dispatcher", "supervisor", "principal", "auditor")  # none may change an MOU

pytestmark = pytest.mark.video


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    yield from started_broker(tmp_path_factory.mktemp("schemathesis-broker"))


@pytest.mark.parametrize("role", PLAIN_ROLES)
def test_schemathesis_finds_no_disagreement(broker: BrokerProcess, role: str, tmp_path: Path) -> None:
    run_role(broker, role, tmp_path, first=role == PLAIN_ROLES[0])

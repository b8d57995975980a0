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
to hide, so the roles that may change the MOU run last: every other role fuzzes the demo as it starts, school IT
terminates it, and the superintendent's and the chief's runs then meet a terminated MOU (409 ``mou_state``,
documented) on the write routes and read it on the others. Nothing after them uses this broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.broker_process import BrokerProcess

CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
RUN_TIMEOUT = 300  # seconds per role (about 100 since GET operations are fuzzed too: 14 min for 8 roles)
# role -> (sub, agency, roles) as `camgate token` takes them: police, the school district, the auditor.
ROLES = {
    "officer": ("officer-kim", "ncpd", "officer"),
    "dispatcher": ("dispatch-lee", "ncpd", "dispatcher"),
    "supervisor": ("sgt-ortiz", "ncpd", "supervisor"),
    "principal": ("principal-saxe", "ncps", "principal"),
    "auditor": ("auditor-ray", "ncps", "auditor"),
    # Last, the roles that may change the demo MOU (issue 14): school IT and the superintendent draft, approve and
    # terminate for the school district, the chief approves and terminates for the police.
    "school_it": ("it-ana", "ncps", "operator"),
    "superintendent": ("supt-reyes", "ncps", "superintendent"),
    "chief": ("chief-dunn", "ncpd", "chief"),
}
WARM_CAMERA = "saxe-ext-01"  # the camera_id example in the description: its encoder is started up front

pytestmark = pytest.mark.video


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("schemathesis-broker")) as running:
        officer = running.token(*ROLES["officer"])
        r = httpx.get(f"{running.url}/api/v1/cameras/{WARM_CAMERA}/live.m3u8", timeout=30,
                      headers={"Authorization": f"Bearer {officer}"})  # fmt: skip
        assert r.status_code == 200, f"{r.status_code} {r.text}\n{running.log()}"
        yield running


def schemathesis(broker: BrokerProcess, token: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``st run --checks all`` against the broker's /openapi.json, with the token on every request."""
    seed = os.environ.get("CAMGATE_SCHEMATHESIS_SEED")
    cmd = [
        str(ST), "--config-file", str(CONFIG), "--no-color", "run", f"{broker.url}/openapi.json",
        "--checks", "all", "-H", f"Authorization: Bearer {token}", *(["--seed", seed] if seed else []),
    ]  # fmt: skip
    env = os.environ | {"SCHEMATHESIS_TELEMETRY": "false", "COLUMNS": "120"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)


def readable(out: str, limit: int = 15_000) -> str:
    """The failures and the summary of a run's output (the progress lines before them say little)."""
    start = out.find("FAILURES")
    if start < 0:
        start = out.find("ERRORS")
    text = out[start:] if start >= 0 else out
    return text if len(text) <= limit else text[:limit] + "\n[...]\n" + out[-2000:]


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_no_disagreement(broker: BrokerProcess, role: str, tmp_path: Path) -> None:
    token = broker.token(*ROLES[role])
    try:
        result = schemathesis(broker, token, tmp_path)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"schemathesis did not finish in {RUN_TIMEOUT}s as {role}:\n{output[-5000:]}", pytrace=False)
    out = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(
            f"schemathesis as {role} (exit {result.returncode}):\n{readable(out)}\n"
            f"--- broker log (tail) ---\n{broker.log()[-3000:]}",
            pytrace=False,
        )
    summary = out.strip().splitlines()[-1]
    assert "failure" not in summary and "error" not in summary, out[-5000:]
    assert "passed" in summary or "warning" in summary, out[-5000:]  # it ran something

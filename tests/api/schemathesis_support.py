"""What the schemathesis tests share (``test_openapi_schemathesis.py``, ``test_openapi_schemathesis_mou.py``).

Each module starts its own demo broker, so ``make test``'s two workers run the two modules at once (``--dist
loadfile``). The first role of a module fuzzes with the configuration's ``max-examples`` (20); the roles after it
on the same broker run every operation again, with the coverage phase's boundary cases, and ``FOLLOW_EXAMPLES``
fuzzed examples each: their answers differ from the first role's in who may, which a few examples show as well
as twenty.
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
RUN_TIMEOUT = 300  # seconds per role (about 100 at most since GET operations are fuzzed too)
FOLLOW_EXAMPLES = 8  # fuzzed examples per operation for the roles after a module's first
# role -> (sub, agency, roles) as `camgate token` takes them: police, the school district, the auditor.
ROLES = {
    "officer": ("officer-kim", "ncpd", "officer"),
    "dispatcher": ("dispatch-lee", "ncpd", "dispatcher"),
    "supervisor": ("sgt-ortiz", "ncpd", "supervisor"),
    "principal": ("principal-saxe", "ncps", "principal"),
    "auditor": ("auditor-ray", "ncps", "auditor"),
    "school_it": ("it-ana", "ncps", "operator"),
    "superintendent": ("supt-reyes", "ncps", "superintendent"),
    "chief": ("chief-dunn", "ncpd", "chief"),
}
WARM_CAMERA = "saxe-ext-01"  # the camera_id example in the description: its encoder is started up front


def started_broker(tmp: Path) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp) as running:
        officer = running.token(*ROLES["officer"])
        r = httpx.get(
            f"{running.url}/api/v1/cameras/{WARM_CAMERA}/live.m3u8",
            timeout=30,
            headers={"Authorization": f"Bearer {officer}"},
        )
        assert r.status_code == 200, f"{r.status_code} {r.text}\n{running.log()}"
        yield running


def schemathesis(
    broker: BrokerProcess, token: str, cwd: Path, max_examples: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``st run --checks all`` against the broker's /openapi.json, with the token on every request."""
    seed = os.environ.get("CAMGATE_SCHEMATHESIS_SEED")
    cmd = [
        str(ST),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{broker.url}/openapi.json",
        "--checks",
        "all",
        "-H",
        f"Authorization: Bearer {token}",
        *(["--seed", seed] if seed else []),
        *(["--max-examples", str(max_examples)] if max_examples else []),
    ]
    env = os.environ | {"SCHEMATHESIS_TELEMETRY": "false", "COLUMNS": "120"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)


def readable(out: str, limit: int = 15_000) -> str:
    """The failures and the summary of a run's output (the progress lines before them say little)."""
    start = out.find("FAILURES")
    if start < 0:
        start = out.find("ERRORS")
    text = out[start:] if start >= 0 else out
    return text if len(text) <= limit else text[:limit] + "\n[...]\n" + out[-2000:]


def run_role(broker: BrokerProcess, role: str, tmp_path: Path, first: bool) -> None:
    """schemathesis as ``role``: zero failures, zero errors, and it ran something."""
    token = broker.token(*ROLES[role])
    try:
        result = schemathesis(broker, token, tmp_path, None if first else FOLLOW_EXAMPLES)
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

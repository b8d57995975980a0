"""Starting the broker prints nothing of its libraries' own business (broker/identity/oidc.py): ``make demo`` and
``camgate serve`` began with authlib's "AuthlibDeprecationWarning: The httpx module is deprecated; please use
httpx2 instead.", which a new user reads as something to install."""

from __future__ import annotations

import os
import subprocess
import sys

from broker.settings import REPO


def test_importing_the_app_warns_of_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS",)} | {"PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", "import broker.api"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr

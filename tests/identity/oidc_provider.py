"""Runs ``tests/oidc/provider.mjs`` (panva's oidc-provider, pinned in ``tests/oidc/package-lock.json`` and
installed by ``make test`` with ``npm ci``) on 127.0.0.1 for the sign-in tests. Nothing is downloaded here."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import RSAKey

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "camgate-console"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        return "tests/oidc/node_modules is missing: run `make test` (it runs npm ci there)"
    return None


def new_jwks(directory: Path) -> tuple[Path, str]:
    """A private JWK Set with one fresh RSA key (the provider signs RS256 ID tokens); its path and kid."""
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    path = directory / f"jwks-{kid[:8]}.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=True, kid=kid, use="sig", alg="RS256")]}))
    return path, kid


@dataclass
class OidcProvider:
    directory: Path
    redirect_uri: str
    account: dict[str, Any]
    port: int = field(default_factory=free_port)
    kid: str = ""
    _process: subprocess.Popen[str] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OidcProvider:
        """Start (or restart) with a new signing key: a restart is a key rotation at the provider."""
        self.stop()
        jwks, self.kid = new_jwks(self.directory)
        env = os.environ | {
            "OIDC_PORT": str(self.port), "OIDC_JWKS": str(jwks), "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_REDIRECT_URI": self.redirect_uri, "OIDC_ACCOUNT": json.dumps(self.account),
            "NODE_ENV": "test",
        }  # fmt: skip
        log = open(self.directory / "provider.log", "a")  # noqa: SIM115 (closed with the process)
        self._process = subprocess.Popen(
            ["node", str(OIDC_DIR / "provider.mjs")], cwd=OIDC_DIR, env=env, stdout=log, stderr=log, text=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {self.log()}")
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"oidc-provider did not start: {self.log()}")

    def log(self) -> str:
        path = self.directory / "provider.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

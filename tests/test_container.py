"""Issue 13 item 22: the container files (no container engine runs here: what can be read is checked).

The image builds the console's hls.js with npm ci in a stage of its own and installs the wheel built with it
(tests/test_wheel.py builds that wheel); its health check asks the configured port; the build context leaves out
local state and secrets; compose.yaml runs PostgreSQL and camgate with no secret written in it.
"""

from __future__ import annotations

import fnmatch
import re

import yaml

from tests.paths import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()
IGNORED = [p for p in (REPO / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]


def stages() -> dict[str, str]:
    """Each stage's name (or its index) and its instructions."""
    parts = re.split(r"(?m)^FROM ", DOCKERFILE)[1:]
    return {
        (m.group(1) if (m := re.search(r" AS (\S+)", p.splitlines()[0])) else str(i)): p for i, p in enumerate(parts)
    }


def test_a_node_stage_runs_npm_ci_and_the_wheel_is_built_with_its_hls_js() -> None:
    built = stages()
    console = built["console"]
    assert console.startswith("node:") and "npm ci" in console and "package-lock.json" in console
    assert "hls.js/dist/hls.min.mjs static/vendor/hls.mjs" in console
    assert "COPY --from=console /src/broker/console/static/vendor ./broker/console/static/vendor" in built["wheel"]
    assert "pip wheel" in built["wheel"] and "COPY tools ./tools" in built["wheel"]  # the backend that checks it
    runtime = list(built.values())[-1]
    assert "COPY --from=wheel /wheels" in runtime and "pip install /tmp/wheels/*.whl" in runtime
    assert "npm" not in runtime and "node" not in runtime.split("\n", 1)[0]


def test_the_health_check_asks_the_configured_port() -> None:
    (check,) = [line for line in DOCKERFILE.splitlines() if line.startswith("HEALTHCHECK")]
    assert "8080" not in check and '"python", "-m", "broker.cli.healthcheck"' in check


def test_the_build_context_leaves_out_local_state_and_keeps_what_is_copied() -> None:
    for local in (".git", ".venv", ".camgate", "**/node_modules", "broker/console/static/vendor", "secrets", ".env"):
        assert local in IGNORED, local
    copied = re.findall(r"(?m)^COPY (?!--from)(.+) \S+$", DOCKERFILE)
    for source in " ".join(copied).split():
        assert (REPO / source).exists(), source
        assert not any(fnmatch.fnmatch(source, p) for p in IGNORED), f"{source} is copied but .dockerignore drops it"


def test_compose_runs_postgresql_and_camgate_with_secrets_from_env_and_files() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    db, camgate = compose["services"]["db"], compose["services"]["camgate"]
    assert db["image"].startswith("postgres:") and db["healthcheck"]
    assert camgate["build"] == "." and camgate["depends_on"]["db"]["condition"] == "service_healthy"
    env = camgate["environment"]
    assert env["CAMGATE_MODE"] == "prod"
    assert re.fullmatch(r"postgresql\+psycopg://camgate@db:5432/camgate", env["CAMGATE_STORE__URL"])  # no password
    for secret in ("PGPASSWORD", "CAMGATE_STREAMS__TOKEN_SECRET"):
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", env[secret]), secret  # from .env, required
    assert db["environment"]["POSTGRES_PASSWORD"] == env["PGPASSWORD"]
    assert env["CAMGATE_AUDIT__CHECKPOINTS__KEY_FILE"] == "/run/secrets/audit_signing_key"
    assert compose["secrets"]["audit_signing_key"]["file"].startswith("./secrets/")
    assert env["CAMGATE_SERVER__PORT"] == "${CAMGATE_PORT:-8080}"

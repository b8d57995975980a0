"""Every settings problem at once, each naming the setting and where to set it (issue 13 item 21).

Two kinds of problem: what pydantic refuses (a wrong type, an unknown key, a value out of range) and, outside
dev mode, what a server must not run with (a placeholder or missing secret, the dev issuer, no token issuer,
no checkpoint signing key). The second kind is checked per section by field validators of the settings root
(:func:`secret_problems`), so both kinds come back in one ``ValidationError`` and :func:`describe` turns it into
one message: one line per problem, then the environment variable or TOML key that sets it::

    invalid settings (2 problems; from CAMGATE_* variables and /etc/camgate.toml):
      - streams.token_secret holds a placeholder; set a random value of at least 32 bytes
          set CAMGATE_STREAMS__TOKEN_SECRET, or token_secret in [streams] of /etc/camgate.toml
      - server.port: Input should be less than or equal to 65535
          set CAMGATE_SERVER__PORT, or port in [server] of /etc/camgate.toml
    For a trial on this machine, CAMGATE_MODE=dev uses generated secrets and the built-in token issuer.

Commands that only read or only talk to a broker (``audit verify``, ``reload``, ``trigger send``, ``token``)
load the settings with :func:`skipping_server_checks`: they need none of a server's secrets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from broker.identity.sources import PLACEHOLDER, placeholder_secrets

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

_SERVER_CHECKS: ContextVar[bool] = ContextVar("camgate_server_checks", default=True)
DEV_HINT = "For a trial on this machine, CAMGATE_MODE=dev uses generated secrets and the built-in token issuer."


@dataclass(frozen=True)
class Problem:
    setting: str  # where it is set: streams.token_secret, notifications.webhooks.0
    text: str  # what is wrong, naming the setting
    where: bool = True  # False: the text already says what to set (an environment variable it names)


class SettingsProblems(ValueError):
    """Raised by a settings validator with every problem of its section."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


@contextlib.contextmanager
def skipping_server_checks() -> Iterator[None]:
    """Within: settings load without the checks only a server needs (secrets, issuers, signing key)."""
    token = _SERVER_CHECKS.set(False)
    try:
        yield
    finally:
        _SERVER_CHECKS.reset(token)


def server_checks_on() -> bool:
    return _SERVER_CHECKS.get()


def secret_problems(section: str, value: Any, data_dir: Path) -> list[Problem]:
    """What a server outside dev mode may not run with, in one section of the settings root."""
    if section == "streams":
        return _stream_secret(value.token_secret)
    if section == "identity":
        problems = []
        if value.dev_issuer is not None:
            text = (
                "identity.dev_issuer is for dev mode only: remove it (CAMGATE_IDENTITY__DEV_ISSUER, or dev_issuer "
                "in [identity]), or set CAMGATE_MODE=dev for a trial"
            )
            problems.append(Problem("identity.dev_issuer", text, where=False))
        if not value.issuers:
            text = "identity.issuers is empty: no token could ever be accepted; add your agencies' OIDC issuers"
            problems.append(Problem("identity.issuers", text))
        return problems
    if section == "triggers":
        text = "triggers.sources.{}: no secret, or a placeholder; set a whsec_ secret (secrets, or secret_files)"
        return [Problem(f"triggers.sources.{sid}.secrets", text.format(sid)) for sid in placeholder_secrets(value)]
    if section == "notifications":
        from broker.notify.config import resolve

        def one_webhook(w: Any) -> None:
            resolve(value.model_copy(update={"webhooks": [w]}), dev=False, data_dir=data_dir)

        return _each("notifications.webhooks", value.webhooks, one_webhook)
    if section == "audit":
        from broker.audit.keys import KEY_FIELD, key_problem
        from broker.notify.witness_config import resolve_witnesses

        def one_witness(w: Any) -> None:
            resolve_witnesses([w], dev=False, data_dir=data_dir)

        problems = _each("audit.witnesses", value.witnesses, one_witness)
        if problem := key_problem(value.checkpoints.key_file):
            problems.append(Problem(KEY_FIELD, problem))
        return problems
    return []


def _stream_secret(secret: SecretStr) -> list[Problem]:
    value = secret.get_secret_value()
    if PLACEHOLDER in value:
        text = "streams.token_secret holds a placeholder; set a random value of at least 32 bytes"
    elif len(value.encode()) < 32:
        text = "streams.token_secret must be at least 32 bytes (a random value)"
    else:
        return []
    return [Problem("streams.token_secret", text)]


def _each(where: str, items: list[Any], check: Callable[[Any], None]) -> list[Problem]:
    """Each item of a list checked alone (its own index in what is reported): every bad one, not the first."""
    problems = []
    for i, item in enumerate(items):
        try:
            check(item)
        except ValueError as exc:
            text = str(exc).replace(f"{where}.0", f"{where}.{i}", 1)
            problems.append(Problem(f"{where}.{i}", text, where="$" not in text))
    return problems


def where_to_set(setting: str, config_file: str | None) -> str:
    """``set CAMGATE_SERVER__PORT, or port in [server] of FILE``: the two places a setting comes from."""
    parts = setting.split(".")
    cut = next((i for i, part in enumerate(parts) if part.isdigit()), len(parts))
    head = parts[:cut] or ["settings"]
    env = "CAMGATE_" + "__".join(head).upper()
    table, key = ".".join(head[:-1]), head[-1]
    item = f" (item {parts[cut]}; the whole list as JSON)" if cut < len(parts) else ""
    toml = f"{key} in [{table}]" if table else f"{key} at the top"
    return f"set {env}{item}, or {toml} of {config_file or 'the TOML file named by CAMGATE_CONFIG'}"


def _problems(errors: list[ErrorDetails]) -> tuple[list[Problem], bool]:
    """Every problem, and whether one is a server's secret (then CAMGATE_MODE=dev is worth a mention)."""
    problems: list[Problem] = []
    secrets = False
    for error in errors:
        found = (error.get("ctx") or {}).get("error")
        if isinstance(found, SettingsProblems):
            problems.extend(found.problems)
            secrets = True
            continue
        setting = ".".join(str(part) for part in error["loc"]) or "settings"
        if error["type"] == "extra_forbidden":
            text = f"{setting}: {error['msg']} (not a setting: a typo?); remove it"
            problems.append(Problem(setting, text, where=False))
        else:
            problems.append(Problem(setting, f"{setting}: {error['msg'].removeprefix('Value error, ')}"))
    return problems, secrets


def describe(errors: list[ErrorDetails], config_file: str | None) -> str:
    """The one message for every problem found (the ConfigError that ``serve`` and every command print)."""
    problems, secrets = _problems(errors)
    source = f"CAMGATE_* variables and {config_file}" if config_file else "CAMGATE_* variables"
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    lines = [f"invalid settings ({count}; from {source}):"]
    for p in problems:
        lines.append(f"  - {p.text}")
        if p.where:
            lines.append(f"      {where_to_set(p.setting, config_file)}")
    if secrets:
        lines.append(DEV_HINT)
    return "\n".join(lines)

"""Settings of audit witnesses (``audit.witnesses``): the MOU parties that receive every signed checkpoint.

A witness is a webhook like the emergency notices' (:mod:`broker.notify.config`): it belongs to an agency (a
school district, a police department), is POSTed to at ``url`` and signed with a Standard Webhooks ``whsec_``
secret read from an environment variable or a file, never from the settings file. It receives every
checkpoint, unfiltered: what it proves depends on holding all of them (README "Witnesses").
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.notify.config import (
    PLACEHOLDER,
    Webhook,
    WebhookSettings,
    _dev_secret,
    _read_secret,
    check_receiver,
    check_secret,
)

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
KEY_PREFIX = "witness-"  # a witness's key in the outbox, apart from the emergency webhooks'


class WitnessSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A stable name (the outbox key is witness-<name>)", min_length=1, max_length=64)
    agency: str = Field(description="The MOU party running the witness (a school district, a police department)")
    url: str = Field(description="Where checkpoints are POSTed (https; http only to loopback or in dev mode)")
    secret_env: str | None = Field(None, description="Environment variable holding the whsec_ signing secret")
    secret_file: Path | None = Field(None, description="File holding the whsec_ signing secret")

    @model_validator(mode="after")
    def _check(self) -> WitnessSettings:
        check_receiver(self.url, self.secret_env, self.secret_file)
        return self

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.name

    def as_webhook(self) -> WebhookSettings:
        """The same receiver as a webhook setting (to read its secret the way notifications do)."""
        return WebhookSettings(
            agency=self.agency, name=self.key, url=self.url, secret_env=self.secret_env, secret_file=self.secret_file
        )


def check_unique(witnesses: list[WitnessSettings]) -> None:
    names = [w.name for w in witnesses]
    if len(names) != len(set(names)):
        raise ValueError("two audit.witnesses share a name")


def resolve_witnesses(witnesses: list[WitnessSettings], *, dev: bool, data_dir: Path) -> list[Webhook]:
    """Each witness as a webhook with its secret read; ValueError naming ``audit.witnesses.<i>`` otherwise."""
    check_unique(witnesses)
    hooks = []
    for i, w in enumerate(witnesses):
        where = f"audit.witnesses.{i}"
        parts = urlsplit(w.url)
        if not dev and parts.scheme != "https" and parts.hostname not in _LOOPBACK:
            raise ValueError(f"{where}.url: use https (http only to loopback, or in dev mode)")
        secret = _read_secret(w.as_webhook(), where)
        if secret is None or PLACEHOLDER in secret:
            if not dev:
                source = f"${w.secret_env}" if w.secret_env else str(w.secret_file)
                raise ValueError(f"{where}: no signing secret in {source} (or a placeholder): set a whsec_ secret")
            secret = _dev_secret(data_dir)
        none: frozenset[str] = frozenset()
        hooks.append(Webhook(w.key, w.agency, w.url, check_secret(secret, where), none, none, none))
    return hooks

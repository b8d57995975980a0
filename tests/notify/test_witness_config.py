"""audit.witnesses: webhooks of the MOU parties that keep checkpoints; secrets as for notifications."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.notify.witness_config import resolve_witnesses
from broker.settings import load_settings
from tests.fakes.webhooks import new_secret
from tests.test_notify_settings import PROD

URL = "https://witness.ncps.example.org/camgate"


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production settings need a checkpoint signing key (README, signing keys): a base64url raw seed."""
    monkeypatch.setenv("CAMGATE_AUDIT_SIGNING_KEY", "A" * 43)


def witness(**kw: object) -> dict[str, object]:
    return {"name": "ncps", "agency": "ncps", "url": URL, "secret_env": "WITNESS_SECRET"} | kw


def test_witnesses_resolve_to_outbox_webhooks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = new_secret()
    monkeypatch.setenv("WITNESS_SECRET", secret)
    (tmp_path / "pd").write_text(new_secret())
    pd = witness(
        name="ncpd", agency="ncpd", url="http://127.0.0.1:8790/", secret_env=None, secret_file=str(tmp_path / "pd")
    )
    settings = load_settings(**PROD, audit={"witnesses": [witness(), pd]})
    hooks = resolve_witnesses(settings.audit.witnesses, dev=False, data_dir=tmp_path)
    assert [(h.key, h.agency) for h in hooks] == [("witness-ncps", "ncps"), ("witness-ncpd", "ncpd")]
    assert hooks[0].secret == secret and not hooks[0].events  # every checkpoint, unfiltered


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([witness(), witness(agency="ncpd")], "two audit.witnesses share a name"),
        ([witness(url="http://witness.example.org/")], "audit.witnesses.0.url: use https"),
        ([witness(secret_file="/run/x")], "exactly one of secret_env and secret_file"),
        ([witness(events=["emergency.end"])], "events"),
        ([witness()], "audit.witnesses.0: no signing secret in \\$WITNESS_SECRET"),
    ],
)
def test_bad_witnesses_are_refused(monkeypatch: pytest.MonkeyPatch, given: list[object], message: str) -> None:
    monkeypatch.delenv("WITNESS_SECRET", raising=False)
    with pytest.raises(ConfigError, match=message):
        load_settings(**PROD, audit={"witnesses": given})

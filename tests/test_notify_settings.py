"""Notification settings: webhook secrets from env or file, placeholders and bad secrets refused outside dev mode."""

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.notify.config import resolve
from broker.settings import load_settings
from tests.fakes.webhooks import new_secret

PROD = {
    "streams": {"token_secret": "s" * 40},
    "identity": {"issuers": [{"issuer": "https://idp.example/ncpd", "audience": "camgate", "agency": "ncpd",
                              "jwks_uri": "https://idp.example/ncpd/jwks"}]},
}  # fmt: skip
URL = "https://alerts.ncps.example.org/camgate"


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production settings need a checkpoint signing key (README, signing keys): a base64url raw seed."""
    monkeypatch.setenv("CAMGATE_AUDIT_SIGNING_KEY", "A" * 43)


def prod(*hooks: dict[str, object], **extra: object) -> object:
    return load_settings(**PROD, notifications={"webhooks": list(hooks), **extra})


def test_a_secret_from_the_environment_or_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret, other = new_secret(), new_secret()
    monkeypatch.setenv("HOOK_SECRET", secret)
    (tmp_path / "hook").write_text(other + "\n")
    s = prod({"agency": "ncps", "url": URL, "secret_env": "HOOK_SECRET"},
             {"agency": "ncpb", "url": "http://127.0.0.1:9/hook", "secret_file": str(tmp_path / "hook"),
              "events": ["emergency.end"]})  # fmt: skip
    hooks = resolve(s.notifications, dev=False, data_dir=tmp_path)  # type: ignore[attr-defined]
    assert [h.secret for h in hooks] == [secret, other] and hooks[1].events == {"emergency.end"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "no signing secret in \\$HOOK_SECRET"),
        ("whsec_change-me", "placeholder"),
        ("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "must start with 'whsec_'"),
        ("whsec_not base64!", "not base64"),
        ("whsec_c2hvcnQ=", "24 to 64 bytes"),
    ],
)
def test_bad_secrets_are_refused_outside_dev_mode(
    monkeypatch: pytest.MonkeyPatch, value: str | None, message: str
) -> None:
    if value is None:
        monkeypatch.delenv("HOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("HOOK_SECRET", value)
    with pytest.raises(ConfigError, match=message) as caught:
        prod({"agency": "ncps", "url": URL, "secret_env": "HOOK_SECRET"})
    assert "whsec_c2hvcnQ" not in str(caught.value)  # never the secret itself


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ({"url": "http://alerts.example.org/x"}, "use https"),
        ({"url": "ftp://alerts.example.org/x"}, "not an http"),
        ({"secret_file": "/nonexistent"}, "exactly one of secret_env and secret_file"),
        ({"colour": "red"}, "colour"),
        ({"events": ["emergency.panic"]}, "events"),
    ],
)
def test_bad_webhooks_are_refused(monkeypatch: pytest.MonkeyPatch, hook: dict[str, object], message: str) -> None:
    monkeypatch.setenv("HOOK_SECRET", new_secret())
    with pytest.raises(ConfigError, match=message):
        prod({"agency": "ncps", "url": URL, "secret_env": "HOOK_SECRET"} | hook)


def test_a_lease_no_longer_than_the_timeout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="lease_seconds must exceed timeout_seconds"):
        prod(timeout_seconds=30, lease_seconds=30)


def test_dev_mode_replaces_a_placeholder_with_a_kept_random_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "change-me")
    s = load_settings(mode="dev", data_dir=tmp_path,
                      notifications={"webhooks": [{"agency": "ncps", "url": "http://school.lan/hook",
                                                   "secret_env": "HOOK_SECRET"}]})  # fmt: skip
    first = resolve(s.notifications, dev=True, data_dir=tmp_path)[0].secret
    assert first.startswith("whsec_") and "change-me" not in first
    assert resolve(s.notifications, dev=True, data_dir=tmp_path)[0].secret == first

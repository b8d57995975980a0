"""The settings root: placeholders and the dev issuer refused outside dev mode; TOML and env sources."""

import pytest

from broker.errors import ConfigError
from broker.settings import load_settings
from tests.paths import REPO

WHSEC, WHSEC_2 = "whsec_" + "Q" * 43, "whsec_" + "R" * 43
ISSUER = {
    "issuer": "https://idp.example/ncpd",
    "audience": "camgate",
    "agency": "ncpd",
    "jwks_uri": "https://idp.example/ncpd/jwks",
}


def test_placeholder_secret_refused_outside_dev_mode():
    with pytest.raises(ConfigError, match="token_secret holds a placeholder"):
        load_settings(identity={"issuers": [ISSUER]})


def test_short_secret_refused():
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_settings(streams={"token_secret": "short"}, identity={"issuers": [ISSUER]})


def test_dev_issuer_refused_outside_dev_mode():
    with pytest.raises(ConfigError, match="dev mode only"):
        load_settings(streams={"token_secret": "s" * 40}, identity={"issuers": [ISSUER], "dev_issuer": {}})


def test_no_issuers_refused_in_prod():
    with pytest.raises(ConfigError, match=r"identity\.issuers is empty"):
        load_settings(streams={"token_secret": "s" * 40})


def test_unknown_setting_refused():
    with pytest.raises(ConfigError, match=r"streams\.colour"):
        load_settings(mode="dev", streams={"colour": "red"})


def test_dev_mode_gets_the_dev_issuer_and_a_random_secret(tmp_path):
    s = load_settings(mode="dev", data_dir=tmp_path)
    assert s.identity.dev_issuer is not None
    secret = s.stream_secret()
    assert len(secret) >= 32 and b"change-me" not in secret and secret == s.stream_secret()


def test_example_toml_with_env_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMGATE_CONFIG", str(REPO / "config" / "camgate.example.toml"))
    monkeypatch.setenv("CAMGATE_STREAMS__TOKEN_SECRET", "x" * 40)
    for name in (
        "CAMGATE_WEBHOOK_NCPS_SAXE",
        "CAMGATE_WEBHOOK_NCPS_SUPT",
        "CAMGATE_WEBHOOK_NCPB",
        "CAMGATE_WITNESS_NCPD",
    ):
        monkeypatch.setenv(name, "whsec_" + "c2VjcmV0" * 4)  # 24 bytes
    with pytest.raises(ConfigError) as refused:
        load_settings()
    for source in ("ncps", "ncpb"):  # every source at once, each with where to set it
        assert f"triggers.sources.{source}: no secret, or a placeholder" in refused.value.message
        assert (
            f"set CAMGATE_TRIGGERS__SOURCES__{source.upper()}__SECRETS, or secrets in [triggers.sources.{source}]"
            in (refused.value.message)
        )
    monkeypatch.setenv("CAMGATE_TRIGGERS__SOURCES__NCPS__SECRETS", f'["{WHSEC}"]')
    secret_file = tmp_path / "ncpb-secret"
    secret_file.write_text(WHSEC_2 + "\n")
    monkeypatch.setenv("CAMGATE_TRIGGERS__SOURCES__NCPB__SECRETS", "[]")
    monkeypatch.setenv("CAMGATE_TRIGGERS__SOURCES__NCPB__SECRET_FILES", f'["{secret_file}"]')
    monkeypatch.setenv("CAMGATE_AUDIT_SIGNING_KEY", "A" * 43)  # a base64url raw seed (README, signing keys)
    s = load_settings()
    assert s.webhook_secrets("ncps") == [WHSEC] and s.webhook_secrets("ncpb") == [WHSEC_2]
    assert s.triggers.sources["ncps"].devices["saxe-office-1"].radius_m == 9.1 and s.webhook_secrets("x") == []
    assert [w.key for w in s.audit.witnesses] == ["witness-ncpd"]
    assert [w.key for w in s.notifications.webhooks] == [
        "ncps-saxe-office",
        "ncps-superintendent",
        "ncpb-parking-supervisor",
    ]
    monkeypatch.delenv("CAMGATE_WEBHOOK_NCPB")
    with pytest.raises(ConfigError, match=r"no signing secret in \$CAMGATE_WEBHOOK_NCPB"):
        load_settings()
    assert s.store.url.startswith("postgresql+psycopg://") and [i.agency for i in s.identity.issuers] == [
        "ncpd",
        "ncps",
    ]


def test_dev_mode_gets_the_demo_trigger_sources_with_secrets_kept_in_the_data_dir(tmp_path):
    s = load_settings(mode="dev", data_dir=tmp_path)
    assert set(s.triggers.sources) == {"ncps", "ncpb"}
    (secret,) = s.webhook_secrets("ncps")
    assert secret.startswith("whsec_") and "change-me" not in secret
    assert load_settings(mode="dev", data_dir=tmp_path).webhook_secrets("ncps") == [secret]  # what trigger send uses
    assert s.webhook_secrets("ncpb") != [secret]


def test_unknown_trigger_setting_refused():
    with pytest.raises(ConfigError, match=r"triggers\.sources\.x\.colour"):
        load_settings(mode="dev", triggers={"sources": {"x": {"agency": "a", "colour": "red"}}})


# -- absolute paths (issue 13, item 5) ------------------------------------------------------------------------------
def test_the_default_data_dir_and_gateway_paths_are_made_absolute_where_the_broker_starts(tmp_path, monkeypatch):
    """The default ``.camgate`` is relative; child processes run in other directories (``make demo``'s RTSP camera
    failed), so every path one may be given is absolute from the start."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMGATE_DATA_DIR", raising=False)
    settings = load_settings(mode="dev", gateway={"work_dir": "segments", "ffmpeg": "sh"})
    assert settings.data_dir == tmp_path / ".camgate"
    assert settings.gateway_dir == tmp_path / "segments" and settings.gateway.ffmpeg is not None
    assert settings.gateway.ffmpeg.is_absolute() and settings.gateway.ffmpeg.name == "sh"
    assert load_settings(mode="dev").gateway_dir == tmp_path / ".camgate" / "gateway"
    with pytest.raises(ConfigError, match=r"gateway\.ffmpeg: 'no-such-ffmpeg' is not a program on PATH"):
        load_settings(mode="dev", gateway={"ffmpeg": "no-such-ffmpeg"})

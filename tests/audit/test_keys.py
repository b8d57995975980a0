"""The checkpoint signing key (operator's view): sources, settings errors, dev key, keygen, rotation."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from broker.audit.checkpoints import key_id, public_key_text
from broker.audit.keys import (
    DEV_KEY_NAME,
    ENV_KEY,
    ENV_WITNESS_NAME,
    KeyProblem,
    load_keyring,
    parse_private_key,
    pem,
    write_key_file,
)
from broker.cli.main import main
from broker.errors import ConfigError
from broker.settings import load_settings

ISSUER = {
    "issuer": "https://idp.example/ncpd",
    "audience": "camgate",
    "agency": "ncpd",
    "jwks_uri": "https://idp.example/ncpd/jwks",
}
PROD = {"streams": {"token_secret": "s" * 40}, "identity": {"issuers": [ISSUER]}}


def _seed(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)


# -- parsing ------------------------------------------------------------------------------------------------


def test_pem_and_base64url_seed_name_the_same_key() -> None:
    key = Ed25519PrivateKey.generate()
    expected = key_id(key.public_key())
    assert key_id(parse_private_key(pem(key)).public_key()) == expected
    assert key_id(parse_private_key(pem(key).decode()).public_key()) == expected
    assert key_id(parse_private_key(_seed(key)).public_key()) == expected
    assert key_id(parse_private_key(_seed(key) + "=").public_key()) == expected  # padding optional


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not a key!", "neither PEM nor base64url"),
        (base64.urlsafe_b64encode(b"x" * 16).decode(), "32 bytes, this one is 16"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not an unencrypted PEM private key"),
    ],
)
def test_bad_key_text_says_why(text: str, problem: str) -> None:
    with pytest.raises(KeyProblem, match=problem):
        parse_private_key(text)


def test_an_rsa_key_is_refused() -> None:
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    with pytest.raises(KeyProblem, match="not Ed25519"):
        parse_private_key(rsa_pem)


# -- settings -----------------------------------------------------------------------------------------------


def test_no_key_is_a_settings_error_outside_dev_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audit\.checkpoints\.key_file: no checkpoint signing key.*keygen"):
        load_settings(**PROD, data_dir=tmp_path)


def test_a_missing_or_bad_key_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audit\.checkpoints\.key_file: cannot read .*nope\.pem"):
        load_settings(**PROD, audit={"checkpoints": {"key_file": tmp_path / "nope.pem"}})
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(ConfigError, match=r"audit\.checkpoints\.key_file: .*bad\.pem: neither PEM nor base64url"):
        load_settings(**PROD, audit={"checkpoints": {"key_file": bad}})


def test_key_file_or_environment_but_not_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.pem"
    write_key_file(path)
    assert load_settings(**PROD, audit={"checkpoints": {"key_file": path}}).audit.checkpoints.key_file == path
    monkeypatch.setenv(ENV_KEY, _seed(Ed25519PrivateKey.generate()))
    load_settings(**PROD)  # the environment alone is enough
    with pytest.raises(ConfigError, match=f"both audit.checkpoints.key_file and {ENV_KEY} are set"):
        load_settings(**PROD, audit={"checkpoints": {"key_file": path}})
    monkeypatch.setenv(ENV_KEY, "garbage!")
    with pytest.raises(ConfigError, match=f"{ENV_KEY}: neither PEM nor base64url"):
        load_settings(**PROD)


def test_old_keys_and_retention_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audit\.checkpoints\.old_keys.*\[1\]: not an Ed25519 public key"):
        load_settings(
            mode="dev",
            data_dir=tmp_path,
            audit={"checkpoints": {"old_keys": [public_key_text(Ed25519PrivateKey.generate().public_key()), "short"]}},
        )
    with pytest.raises(ConfigError, match=r"audit\.retention_days: .*at least 365 days \(CJIS"):
        load_settings(mode="dev", data_dir=tmp_path, audit={"retention_days": 364})
    assert load_settings(mode="dev", data_dir=tmp_path, audit={"retention_days": 365}).audit.retention_days == 365
    assert load_settings(mode="dev", data_dir=tmp_path).audit.retention_days is None  # keep forever


# -- the key ring -------------------------------------------------------------------------------------------


def test_dev_mode_generates_a_key_in_the_data_folder_once(tmp_path: Path) -> None:
    assert load_keyring(None, [], None, tmp_path, dev=True, create=False).signing is None  # readers create nothing
    assert not (tmp_path / DEV_KEY_NAME).exists()
    ring = load_keyring(None, [], None, tmp_path, dev=True, create=True)
    path = tmp_path / DEV_KEY_NAME
    assert ring.signing is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.witness_file == tmp_path / f"{DEV_KEY_NAME}.checkpoint.json"
    again = load_keyring(None, [], None, tmp_path, dev=True, create=True)
    assert again.signing_id == ring.signing_id


def test_witness_file_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys" / "camgate.pem"
    write_key_file(path)
    assert load_keyring(path, [], None, tmp_path, dev=False, create=False).witness_file == path.with_name(
        "camgate.pem.checkpoint.json"
    )
    chosen = tmp_path / "elsewhere.json"
    assert load_keyring(path, [], chosen, tmp_path, dev=False, create=False).witness_file == chosen
    monkeypatch.setenv(ENV_KEY, _seed(Ed25519PrivateKey.generate()))
    assert load_keyring(None, [], None, tmp_path, dev=False, create=False).witness_file == tmp_path / ENV_WITNESS_NAME


def test_rotation_verifies_old_and_new_keys(tmp_path: Path) -> None:
    old = write_key_file(tmp_path / "old.pem")
    new_path = tmp_path / "new.pem"
    new = write_key_file(new_path)
    ring = load_keyring(new_path, [public_key_text(old.public_key())], None, tmp_path, dev=False, create=False)
    assert ring.signing_id == key_id(new.public_key())
    assert set(ring.public_keys()) == {key_id(old.public_key()), key_id(new.public_key())}
    listing = ring.listing()
    assert [k["current"] for k in listing] == [True, False]  # the signing key first
    assert listing[0]["public_key"] == public_key_text(new.public_key())


def test_outside_dev_mode_no_key_is_an_error_for_the_broker(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audit\.checkpoints\.key_file: no checkpoint signing key"):
        load_keyring(None, [], None, tmp_path, dev=False, create=True)
    assert list(tmp_path.iterdir()) == []


# -- camgate audit keygen -----------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_and_prints_its_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "signing.pem"
    assert main(["audit", "keygen", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    key = parse_private_key(out.read_bytes())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert printed["key_id"] == key_id(key.public_key())
    assert printed["public_key"] == public_key_text(key.public_key())
    before = out.read_bytes()
    assert main(["audit", "keygen", "--out", str(out)]) == 2  # never overwrites a key
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before

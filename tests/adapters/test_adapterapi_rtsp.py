"""The adapter interface's RTSP source and secret reading: credentials never appear where a source is printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.adapterapi import AdapterConfigError, AdapterError, RtspSource, read_secret


def test_a_source_keeps_its_password_out_of_repr_and_redacted_form() -> None:
    source = RtspSource("rtsp://10.1.2.3:554/axis-media/media.amp?camera=2", username="cam gate", password="p@ss:w/rd")
    assert "p@ss" not in repr(source) and "p@ss" not in source.redacted()
    assert source.redacted() == "rtsp://10.1.2.3:554/axis-media/media.amp"
    assert source.with_credentials() == "rtsp://cam%20gate:p%40ss%3Aw%2Frd@10.1.2.3:554/axis-media/media.amp?camera=2"


def test_without_credentials_the_url_is_unchanged() -> None:
    assert RtspSource("rtsp://cam.local/live").with_credentials() == "rtsp://cam.local/live"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://cam.local/live", "not an rtsp:// URL"),
        ("rtsp:///live", "not an rtsp:// URL"),
        ("rtsp://admin:secret@cam.local/live", "credentials belong in username/password"),
    ],
)
def test_bad_urls_are_refused_without_echoing_secrets(url: str, why: str) -> None:
    with pytest.raises(AdapterError, match=why) as caught:
        RtspSource(url)
    assert "secret" not in str(caught.value)


def test_a_secret_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert read_secret("password", env="CAM_PW", environ={"CAM_PW": "s3cret"}) == "s3cret"
    path = tmp_path / "pw"
    path.write_text("from-file\n", encoding="utf-8")
    assert read_secret("password", file=str(path)) == "from-file"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of 'password_env' or 'password_file'"),
        ({"env": "A", "file": "/x"}, "give exactly one of"),
        ({"env": "MISSING"}, "environment variable 'MISSING' is not set"),
        ({"file": "/nonexistent/pw"}, "cannot read '/nonexistent/pw'"),
    ],
)
def test_missing_secrets_name_the_setting(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(AdapterConfigError, match=message):
        read_secret("password", environ={}, **kwargs)  # type: ignore[arg-type]

"""``http.cors_origins`` (issue 13 item 10): origins as browsers serialize them, nothing else; empty by default."""

from __future__ import annotations

import pytest

from broker.errors import ConfigError
from broker.settings import HttpSettings, load_settings


def test_empty_by_default() -> None:
    assert HttpSettings().cors_origins == []


@pytest.mark.parametrize(
    ("given", "serialized"),
    [
        ("https://CAD.Example.gov", "https://cad.example.gov"),
        ("https://cad.example.gov:443", "https://cad.example.gov"),  # RFC 6454 §6.2: no default port
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_origins_are_serialized(given: str, serialized: str) -> None:
    assert HttpSettings(cors_origins=[given]).cors_origins == [serialized]


@pytest.mark.parametrize(
    "bad", ["*", "null", "cad.example.gov", "ftp://cad.example.gov", "https://cad.example.gov/page", "https://u@x.gov"]
)
def test_anything_but_an_origin_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"http\.cors_origins"):
        load_settings(mode="dev", http={"cors_origins": [bad]})

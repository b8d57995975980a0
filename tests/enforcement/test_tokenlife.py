"""The life of a rewritten playlist's stream URLs (``broker/enforcement/tokenlife.py``): pure, no clock."""

from __future__ import annotations

import pytest

from broker.enforcement.tokenlife import bounded, stream_url_expiry
from broker.settings import StreamSettings

NOW = 1_800_000_000
CFG = StreamSettings(token_min_seconds=60, token_target_durations=6, token_max_seconds=600)


@pytest.mark.parametrize(
    ("target_duration", "bound", "life"),
    [
        (1.0, None, 60),  # the floor: a player 3.8 s behind (or 59 s) still gets its segments
        (2.0, None, 60),
        (10.0, None, 60),
        (15.0, None, 90),  # six target durations when longer than the floor
        (60.0, None, 360),
        (1.0, NOW + 30, 30),  # never past the viewer's credential
        (1.0, NOW - 5, 1),  # a credential within its verifier's leeway: one usable second
        (None, None, 60),
    ],
)
def test_media_playlist_urls(target_duration: float | None, bound: int | None, life: int) -> None:
    exp = stream_url_expiry(NOW, CFG, target_duration=target_duration, is_master=False, bound=bound)
    assert exp - NOW == life


def test_the_cap() -> None:
    cfg = StreamSettings(token_min_seconds=60, token_target_durations=100, token_max_seconds=120)
    assert stream_url_expiry(NOW, cfg, target_duration=10, is_master=False, bound=None) == NOW + 120


def test_master_variants_live_as_long_as_the_session() -> None:
    assert stream_url_expiry(NOW, CFG, target_duration=None, is_master=True, bound=NOW + 8 * 3600) == NOW + 8 * 3600
    assert stream_url_expiry(NOW, CFG, target_duration=None, is_master=True, bound=None) == NOW + 600  # unknown: cap


def test_bounded() -> None:
    assert bounded(NOW + 900, NOW + 60) == NOW + 60
    assert bounded(NOW + 900, None) == NOW + 900


def test_a_cap_below_the_floor_is_refused() -> None:
    with pytest.raises(ValueError, match="token_max_seconds must be at least token_min_seconds"):
        StreamSettings(token_min_seconds=60, token_max_seconds=12)

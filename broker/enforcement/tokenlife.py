"""How long a stream URL the broker writes into a playlist lives. Pure: no I/O, no clock.

A stream URL is not what grants access: every request on it is decided again by the PDP (``StreamProxy.resource``),
so ending an emergency or a grant cuts a viewer at the next request whatever the URL's life. Its life only has to
cover what a player may legitimately do with it, and must never outlast the credential that obtained it:

- **Live segments** (and keys, init sections) of a media playlist: a player reads the playlist, then fetches its
  segments one after another. On a starved client, a stalled one or a slow network this takes far longer than
  the playlist's target duration (issue 13: at 200 viewers on 2 cores the playlist alone took 3.8 s at p95, and
  two target durations let 48% of segment requests fail as expired). So the life is
  ``max(streams.token_min_seconds, streams.token_target_durations x EXT-X-TARGETDURATION)`` (RFC 8216 §4.3.3.1:
  the target duration bounds every segment's duration, so N of them bound the time to play N segments), at most
  ``streams.token_max_seconds``.
- **Variants of a master playlist** (RFC 8216 §4.3.4.2): a player reads the master once and then reloads the
  variant's media playlist for as long as it plays (§6.3.4). A master has no target duration; its variant URLs
  live as long as the viewer's credential (they are decided on every reload).
- **Always**: never past ``bound``, the expiry of the credential that asked for the playlist (the bearer token's
  ``exp``, RFC 7519 §4.1.4, or the console session's), so a URL cannot extend a session that has ended. Without a
  known bound, ``streams.token_max_seconds`` caps it.
"""

from __future__ import annotations

import math

from broker.settings import StreamSettings


def stream_url_expiry(
    now: int, cfg: StreamSettings, *, target_duration: float | None, is_master: bool, bound: int | None
) -> int:
    """The ``exp`` (unix seconds) of the URLs of one rewritten playlist, fetched at ``now`` (unix seconds)."""
    cap = now + math.ceil(cfg.token_max_seconds)
    last = cap if bound is None else bound
    if is_master:
        exp = last  # §4.3.4.2 variants: as long as the session, decided on every request
    else:
        life = cfg.token_min_seconds
        if target_duration:
            life = max(life, cfg.token_target_durations * target_duration)
        exp = min(now + math.ceil(min(life, cfg.token_max_seconds)), last)
    return max(exp, now + 1)  # a credential within its verifier's leeway still gets a usable second


def bounded(exp: int, bound: int | None) -> int:
    """``exp`` no later than ``bound`` (other URLs, e.g. recorded footage's, that must not outlive the session)."""
    return exp if bound is None else min(exp, bound)

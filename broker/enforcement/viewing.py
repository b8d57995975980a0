"""Viewing URLs: a short-lived, camera-bound URL for players that cannot send an ``Authorization`` header.

``?access_token=`` (RFC 6750 §2.3) puts the viewer's long-lived bearer token in a URL, where browsers' consoles,
players' logs and proxies keep it; RFC 6750 §5.3 advises against it. Instead a viewer with a token asks
``POST /api/v1/cameras/{id}/viewing-url`` (decided now and recorded: ``viewing_url.issued``, or the denial) and
gets ``/api/v1/cameras/{id}/view.m3u8?v=<token>``:

- the token is sealed like a stream URL's (:mod:`broker.enforcement.streamtoken`), bound to the viewer, the
  camera and the use ``view``, and opens ``view.m3u8`` of that camera only, within ``streams.viewing_url_seconds``
  (60 s): long enough to start a player, useless soon after;
- ``view.m3u8`` is decided again (and opens or continues the viewing session, on the audit chain like any live
  playlist) and answers a master playlist (RFC 8216 §4.3.4.2) of one variant: the camera's live playlist as a
  stream URL living as long as the credential that asked for the viewing URL, decided on every reload. From
  there the session's stream URLs take over, as for any master playlist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from broker.enforcement.guard import denial
from broker.enforcement.proxy import PLAYLIST, Served, StreamProxy, live_claims, segment_url
from broker.enforcement.streamtoken import LIVE_NAME, LIVE_REF, VIEW_USE
from broker.enforcement.tokenlife import stream_url_expiry
from broker.errors import StreamTokenError
from broker.policy import Principal
from broker.timeutil import format_instant

#: §4.3.4.2: BANDWIDTH is REQUIRED; one variant, so players have nothing to choose between.
VARIANT_BANDWIDTH = 2_000_000


@dataclass(frozen=True)
class ViewingUrl:
    url: str
    expires_at: datetime  # open it before this
    session_until: datetime  # its stream URLs die then at the latest (the credential's expiry)


def issue_viewing_url(
    proxy: StreamProxy, principal: Principal, camera_id: str, client: str | None, bound: int | None
) -> ViewingUrl:
    """Decide ``live`` now, record it, and sign a viewing URL (raises the denial, recorded, when refused)."""
    proxy._require_audit()
    d = proxy.guard.decide(principal, camera_id, "live")
    now = int(proxy.clock.now().timestamp())
    until = bound if bound is not None else now + int(proxy.cfg.token_max_seconds)
    expires = min(now + int(proxy.cfg.viewing_url_seconds), until)
    details = {"during": "viewing_url", "expires_at": _instant(expires), "session_until": _instant(until)}
    if not d.allowed:
        proxy.guard.record(d, principal, camera_id, "live", client, details=details)
        raise denial(d)
    proxy.guard.record(d, principal, camera_id, "live", client, kind="viewing_url.issued", details=details)
    claims = live_claims(principal, camera_id, d, bound=until, use=VIEW_USE)
    token = proxy.signer.sign(replace(claims, ref=LIVE_REF, exp=expires))
    return ViewingUrl(f"{proxy.prefix}/{camera_id}/view.m3u8?v={token}", _at(expires), _at(until))


async def open_viewing_url(proxy: StreamProxy, camera_id: str, token: str, client: str | None) -> Served:
    """The master playlist a viewing URL answers: its token checked, the viewer decided again and counted."""
    claims = proxy.signer.verify(token, camera=camera_id)  # signature, expiry (the start window), camera
    if claims.use != VIEW_USE or claims.action != "live" or claims.ref != LIVE_REF or claims.bound is None:
        raise StreamTokenError("the token is not a viewing URL's", reason="malformed")
    principal = Principal(claims.sub, claims.agency, frozenset(claims.roles))
    d, session = await run_in_threadpool(proxy._admit, principal, camera_id, "live", client, "viewing_url")
    proxy._camera(camera_id)  # a camera without a system: 502 before anything is counted
    now = int(proxy.clock.now().timestamp())
    exp = stream_url_expiry(now, proxy.cfg, target_duration=None, is_master=True, bound=claims.bound)
    variant = proxy.signer.sign(replace(live_claims(principal, camera_id, d), ref=LIVE_REF, exp=exp))
    body = (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        f"#EXT-X-STREAM-INF:BANDWIDTH={VARIANT_BANDWIDTH}\n{segment_url(proxy.prefix, camera_id, LIVE_NAME, variant)}\n"
    ).encode("ascii")
    await proxy.sessions.served(session, len(body))  # on the chain before it is sent
    return Served(body, PLAYLIST)


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def _instant(unix: int) -> str:
    return format_instant(_at(unix)) or ""  # never None for an instant

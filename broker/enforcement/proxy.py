"""The stream proxy: live playlists and segments through the camera system's adapter, checked every request.

``live.m3u8`` is authorised with a bearer token (decision recorded, viewing session opened: fail closed),
fetched through the adapter (shared by every viewer for ``playlist_ttl_seconds``), and rewritten so every URI
is a broker URL carrying a signed token bound to the viewer, camera and grant, which never outlives the viewer's
credential (its life: ``tokenlife.py``). A segment request
checks that token *and asks the PDP again*, so ending an emergency cuts interior delivery at the viewer's
next segment. Upstream bytes come from a shared single-flight cache: one upstream fetch per segment however
many viewers ask. Upstream URLs and credentials never reach a client.

``playback.m3u8`` (recorded footage, contract §4 playback windows) is decided for its window and recorded
the same way, then the broker writes a VOD playlist of the recorded segments that start in the window
(``vod.py``). Its segment tokens also bind the window, and every segment request is decided again for it, so
ending an emergency cuts playback as it cuts live viewing. They live as long as the footage listed plus a
minute, capped by ``playback_token_max_seconds`` (a VOD player reads the playlist once), and never past the
viewer's credential.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from broker.adapterapi import AdapterError, AuthFailed, CameraSystemAdapter, Fetched, NotSupported, RefusedPlaylist
from broker.audit import principal_fields
from broker.clock import Clock
from broker.documents import Camera
from broker.enforcement.guard import Guard, denial
from broker.enforcement.playlist import parse_playlist, safe_filename
from broker.enforcement.segcache import SegmentCache
from broker.enforcement.sessions import Session, SessionTracker, session_key
from broker.enforcement.streamtoken import LIVE_NAME, LIVE_REF, StreamClaims, StreamTokenSigner
from broker.enforcement.tokenlife import bounded, stream_url_expiry
from broker.enforcement.vod import claim_window, select, vod_playlist, window_claim
from broker.errors import (
    AuditUnavailable,
    CamgateError,
    HostilePlaylist,
    InvalidRequest,
    LiveUnsupported,
    NoRecording,
    RecordingUnsupported,
    SnapshotUnsupported,
    StreamTokenError,
    UnknownCamera,
    UpstreamAuth,
    UpstreamError,
    UpstreamTimeout,
)
from broker.inventory.adapters import AdapterPool
from broker.policy import Decision, Principal, Window
from broker.settings import StreamSettings
from broker.timeutil import format_instant

log = logging.getLogger("camgate.proxy")
PLAYBACK_SLACK_SECONDS = 60  # a VOD segment token outlives the footage listed by this much (then the cap)
PLAYLIST = "application/vnd.apple.mpegurl"
CONTENT_TYPES = {
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt",
    ".key": "application/octet-stream",
    ".m3u8": PLAYLIST,
    ".jpg": "image/jpeg",
}


def segment_url(prefix: str, camera: str, name: str, token: str) -> str:
    """A signed segment URL. The token is the query (``t``), so the path names the segment alone and stays the
    same across playlist reloads: players (hls.js since 1.6) key a live segment by its URI without the query
    and stop on a "media sequence mismatch" when it changes."""
    return f"{prefix}/{camera}/hls/{name}?t={token}"


@dataclass(frozen=True)
class Served:
    body: bytes
    content_type: str


def upstream_error(exc: AdapterError) -> CamgateError:
    if exc.timeout:
        return UpstreamTimeout("the camera system did not answer in time")
    if isinstance(exc, AuthFailed):
        return UpstreamAuth("the camera system refused the broker's credentials; ask its operators to fix them")
    return UpstreamError(
        f"the camera system answered badly ({exc.status or 'no response'})", upstream_status=exc.status
    )


class StreamProxy:
    def __init__(
        self,
        guard: Guard,
        sessions: SessionTracker,
        pool: AdapterPool,
        signer: StreamTokenSigner,
        cache: SegmentCache,
        clock: Clock,
        cfg: StreamSettings,
        prefix: str = "/api/v1/cameras",
    ) -> None:
        self.guard, self.sessions, self.pool, self.signer = guard, sessions, pool, signer
        self.cache, self.clock, self.cfg, self.prefix = cache, clock, cfg, prefix

    def _camera(self, camera_id: str) -> tuple[Camera, CameraSystemAdapter]:
        cam = self.guard.catalog().camera(camera_id)
        if cam is None:
            raise UnknownCamera(f"no camera {camera_id!r}", reason="unknown_camera")
        if cam.system is None or cam.system not in self.pool or cam.ref is None:
            raise UpstreamError(f"camera {camera_id!r} has no camera system to stream from")
        return cam, self.pool.get(cam.system)

    async def _fetch(self, key: str, call: Any, ttl: float) -> Fetched:
        try:
            return await self.cache.get_or_fetch(key, call, ttl)
        except AdapterError as exc:
            raise upstream_error(exc) from None

    # -- live playlist -----------------------------------------------------------------------------------
    async def live_playlist(
        self, principal: Principal, camera_id: str, client: str | None, bound: int | None = None
    ) -> Served:
        """``bound``: the expiry (unix seconds) of the viewer's credential, which no URL written outlives."""
        d, session = await run_in_threadpool(self._admit, principal, camera_id, "live", client, "playlist")
        cam, adapter = self._camera(camera_id)
        fetched = await self._fetch_live(cam, adapter)
        claims = live_claims(principal, camera_id, d)
        body = await self._rewrite(fetched, adapter, claims, bound)
        await self.sessions.served(session, len(body))  # on the chain before it is sent
        return Served(body, PLAYLIST)

    async def _fetch_live(self, cam: Camera, adapter: CameraSystemAdapter) -> Fetched:
        ref = cam.ref or ""
        try:
            return await self.cache.get_or_fetch(
                f"{cam.system}:live:{ref}", lambda: adapter.live_playlist(ref), self.cfg.playlist_ttl_seconds
            )
        except NotSupported:  # e.g. an evidence folder: recorded clips only
            raise LiveUnsupported(
                "the camera's system keeps recorded footage only, no live video: ask for playback.m3u8 instead"
            ) from None
        except AdapterError as exc:
            raise upstream_error(exc) from None

    def _admit(
        self,
        principal: Principal,
        camera_id: str,
        action: str,
        client: str | None,
        during: str,
        window: Window | None = None,
    ) -> tuple[Decision, Session]:
        """Decide now and record it, unless it merely continues the viewer's open session unchanged.

        A new or changed decision is recorded before anything is served (no record, no access: 503); a
        denial is recorded and ends the viewer's open sessions on this camera. Repeats within a session
        (playlist reloads, segments) are decided every time; each answer is counted by
        :meth:`SessionTracker.served` once it is ready to go. A playback playlist, asked for once per footage
        window, is always recorded with its window. Nothing is allowed while the audit log cannot take records.
        """
        d = self.guard.decide(principal, camera_id, action, window)
        details: dict[str, Any] = {"during": during}
        if window is not None:
            details["window"] = {"start": format_instant(window.start), "end": format_instant(window.end)}
        if d.allowed:
            self._require_audit()
        # A playback playlist is asked for once per window, and the window is what an auditor needs: recorded.
        if d.allowed and not (window is not None and during == "playlist"):
            s = self.sessions.get(session_key(principal, camera_id, action, d.grant, d.emergency))
            if s is not None:
                self.sessions.touch(s)
                return d, s
        if not d.allowed:
            try:
                self.guard.record(d, principal, camera_id, action, client, details=details)
            finally:  # a denial stands even if its record fails; the session end is retried by the sweep
                self.sessions.close_viewer(principal, camera_id, action, f"access_revoked:{d.reason}")
            raise denial(d)
        self.guard.record(d, principal, camera_id, action, client, details=details)
        return d, self.sessions.open(principal, camera_id, action, d, client)

    def _require_audit(self) -> None:
        """Fail closed: no answer while its record could not be made durable (full disk, lock, store down)."""
        health = self.guard.audit.health.state
        if not health.writable:
            raise AuditUnavailable(f"the audit log cannot take records now ({health.reason}), so nothing is served")

    async def _rewrite(
        self, fetched: Fetched, adapter: CameraSystemAdapter, claims: StreamClaims, bound: int | None
    ) -> bytes:
        try:
            parsed = parse_playlist(fetched.body, base_ref=fetched.ref, resolve=adapter.resolve)
            # Every request on these URLs is decided again: their life covers a player that falls behind, a
            # master's variants live as long as the session, and none outlives the viewer's credential.
            now = int(self.clock.now().timestamp())
            exp = stream_url_expiry(
                now, self.cfg, target_duration=parsed.target_duration, is_master=parsed.is_master, bound=bound
            )

            def sign(ref: str) -> str:
                token = self.signer.sign(_with(claims, ref=ref, exp=exp))
                return segment_url(self.prefix, claims.camera, safe_filename(ref), token)

            return parsed.render(sign)
        except HostilePlaylist as exc:
            # The full reason may quote upstream URIs (internal hosts): operators get it, the client does not.
            log.warning("camera %s: playlist refused: %s", claims.camera, exc.message)
            await run_in_threadpool(self._record_refusal, claims, exc.message)
            line = exc.details.get("line")
            where = f" (line {line})" if line else ""
            raise HostilePlaylist(f"the camera system's playlist was refused as unsafe{where}", line=line) from None

    # -- segments and sub-playlists --------------------------------------------------------------------------
    async def resource(self, camera_id: str, token: str, name: str, client: str | None) -> Served:
        claims = self.signer.verify(token, camera=camera_id)  # signature, expiry, camera binding
        if claims.use is not None:  # a viewing-URL token opens view.m3u8, nothing else
            raise StreamTokenError("a viewing URL's token is not a stream URL's", reason="malformed")
        live = claims.ref == LIVE_REF  # the camera's live playlist (a viewing URL's variant)
        if (LIVE_NAME if live else safe_filename(claims.ref, error=InvalidRequest)) != name:
            raise StreamTokenError("the file name does not match the signed reference", reason="name_mismatch")
        if live and claims.action != "live":
            raise StreamTokenError("only a live token names the live playlist", reason="malformed")
        self._require_audit()
        principal = Principal(claims.sub, claims.agency, frozenset(claims.roles))
        dot = name.rfind(".")
        ctype = CONTENT_TYPES.get(name[dot:].lower(), "application/octet-stream")
        window = claim_window(claims.window) if claims.window is not None else None
        if claims.action == "playback" and (window is None or ctype == PLAYLIST):  # the broker signs neither
            raise StreamTokenError("a playback token names a segment and a window", reason="malformed")
        if self.guard.emergencies.refresh_due():  # other replicas' declarations: read in a thread, not here
            await run_in_threadpool(self.guard.emergencies.refresh)
        if self.guard.positions.refresh_due():  # and the positions of mobile cameras they received
            await run_in_threadpool(self.guard.positions.refresh)
        d = self.guard.decide(principal, camera_id, claims.action, window)  # asked again on every request
        session = self.sessions.get(session_key(principal, camera_id, claims.action, d.grant, d.emergency))
        if not d.allowed or session is None:  # new, changed or denied: recorded (and refused if denied)
            d, session = await run_in_threadpool(
                self._admit, principal, camera_id, claims.action, client, "segment", window
            )
        else:
            self.sessions.touch(session)
        cam, adapter = self._camera(camera_id)
        cache_key = f"{cam.system}:res:{claims.ref}"
        if ctype == PLAYLIST:  # what it lists never outlives it: a variant's token lives as long as the session
            if live:
                fetched = await self._fetch_live(cam, adapter)
            else:
                ttl = self.cfg.playlist_ttl_seconds
                fetched = await self._fetch(cache_key, lambda: adapter.resource(claims.ref), ttl)
            body = await self._rewrite(fetched, adapter, _with(claims, ref="", exp=0), claims.exp)
        else:
            body = (
                await self._fetch(cache_key, lambda: adapter.resource(claims.ref), self.cfg.segment_ttl_seconds)
            ).body
        assert session is not None  # opened by _admit, or found open just above
        await self.sessions.served(session, len(body))  # on the chain before it is sent
        return Served(body, ctype)

    # -- recorded footage -----------------------------------------------------------------------------------
    async def playback_playlist(
        self, principal: Principal, camera_id: str, window: Window, client: str | None, bound: int | None = None
    ) -> Served:
        """The VOD playlist of ``camera_id``'s footage starting in ``window``: decided, recorded, then fetched."""
        d, session = await run_in_threadpool(self._admit, principal, camera_id, "playback", client, "playlist", window)
        cam, adapter = self._camera(camera_id)
        claims = StreamClaims(
            principal.sub,
            principal.agency,
            tuple(sorted(principal.roles)),
            camera_id,
            "playback",
            d.mou,
            d.grant,
            d.emergency,
            "",
            0,
            window_claim(window),
        )
        try:
            recording = await adapter.recording(cam.ref or "", window.start, window.end)
        except NotSupported:
            raise RecordingUnsupported("the camera's system keeps no recordings the broker can read") from None
        except RefusedPlaylist as exc:
            log.warning("camera %s: recording playlist refused: %s", camera_id, exc)
            await run_in_threadpool(self._record_refusal, claims, str(exc))
            raise HostilePlaylist("the camera system's recording playlist was refused as unsafe") from None
        except AdapterError as exc:
            if exc.status == 404:
                raise NoRecording("the camera system has no recording of this camera") from None
            raise upstream_error(exc) from None
        segments = select(recording.segments, window)  # the window again, whatever the adapter returned
        if not segments:
            raise NoRecording("no recorded footage of this camera starts in the window")
        life = min(self.cfg.playback_token_max_seconds, sum(s.duration for s in segments) + PLAYBACK_SLACK_SECONDS)
        exp = bounded(int(self.clock.now().timestamp()) + max(1, math.ceil(life)), bound)  # not past the session

        def sign(ref: str) -> str:
            name = safe_filename(ref)
            if CONTENT_TYPES.get(name[name.rfind(".") :].lower()) == PLAYLIST:  # it would pass through unrewritten
                raise HostilePlaylist(f"recorded segment {name!r} is a playlist")
            token = self.signer.sign(_with(claims, ref=ref, exp=exp))
            return segment_url(self.prefix, camera_id, name, token)

        try:
            body = vod_playlist(segments, sign)
        except HostilePlaylist as exc:  # a segment name the broker cannot put in a URL
            log.warning("camera %s: recording refused: %s", camera_id, exc.message)
            raise HostilePlaylist("the camera system's recording playlist was refused as unsafe") from None
        await self.sessions.served(session, len(body))  # on the chain before it is sent
        return Served(body, PLAYLIST)

    def _record_refusal(self, claims: StreamClaims, why: str) -> None:
        with contextlib.suppress(AuditUnavailable):
            self.guard.audit.append(
                "upstream.refused",
                camera=claims.camera,
                **principal_fields(claims),
                details={"why": why[:500]},
            )

    # -- snapshot -----------------------------------------------------------------------------------------
    async def snapshot(self, principal: Principal, camera_id: str, client: str | None) -> Served:
        self._require_audit()
        d = await run_in_threadpool(self.guard.authorize, principal, camera_id, "snapshot", client)
        cam, adapter = self._camera(camera_id)
        try:
            fetched = await adapter.snapshot(cam.ref or "")
        except NotSupported:
            raise SnapshotUnsupported(
                "the camera's system has no current picture (recorded footage only): ask for playback.m3u8 instead"
            ) from None
        except AdapterError as exc:
            raise upstream_error(exc) from None
        if not fetched.body.startswith(b"\xff\xd8"):
            raise UpstreamError("the camera system's snapshot is not a JPEG")
        # A snapshot has no session: its answer is counted by a record of its own, before it is sent.
        await self.guard.audit.append_async(
            "snapshot.served",
            **principal_fields(principal),
            camera=camera_id,
            action="snapshot",
            mou=d.mou,
            grant=d.grant,
            clause=d.clause,
            emergency=d.emergency,
            client=client,
            details={"bytes": len(fetched.body)},
        )
        return Served(fetched.body, "image/jpeg")


def live_claims(principal: Principal, camera_id: str, d: Decision, **more: Any) -> StreamClaims:
    """The claims of a live stream URL of ``principal`` on ``camera_id`` under ``d`` (``ref`` and ``exp`` unset)."""
    roles = tuple(sorted(principal.roles))
    return StreamClaims(
        principal.sub, principal.agency, roles, camera_id, "live", d.mou, d.grant, d.emergency, "", 0, **more
    )


def _with(claims: StreamClaims, **changes: Any) -> StreamClaims:
    from dataclasses import replace

    return replace(claims, **changes)


__all__ = ["HostilePlaylist", "Served", "StreamProxy"]

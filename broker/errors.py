"""The one exception tree of camgate. Every error a user can cause has a stable ``code`` and an HTTP status.

::

    CamgateError (500 internal_error)
    ├── InputError (422 invalid_input) ............ a request or document field is wrong; carries ``field``
    │   ├── DocumentError (422 invalid_document) .. inventory / MOU validation; carries every issue found
    │   └── InvalidRequest (422 invalid_request) .. API body / query / decide request line
    ├── AuthenticationError (401 unauthenticated)  no, forged, expired or wrong-issuer token; no or an ended
    │   │                                            console session; a refused sign-in callback (``reason``:
    │   │                                            ``state``, ``no_login``, ``id_token``, ``provider``)
    │   ├── StreamTokenError (401 invalid_stream_token)  signed segment URL bad or expired
    │   └── SignatureError (401 invalid_signature) . a webhook (trigger, positions) unsigned, forged or stale
    ├── PermissionDenied (403 forbidden) ......... authenticated but not allowed (role, MOU clause); a cookie
    │   │                                          write without its CSRF token or from another origin
    │   │                                          (``reason`` ``csrf_token`` / ``cross_origin``)
    │   └── AccessDenied (403 access_denied) ..... the PDP said no; ``reason`` is the contract's code
    ├── NotFound (404 not_found)
    │   ├── UnknownCamera (404 unknown_camera)
    │   ├── UnknownEmergency (404 unknown_emergency)
    │   ├── NoRecording (404 no_recording) ...... no recorded footage of the camera in the playback window
    │   └── UnknownMou (404 unknown_mou) ......... no stored MOU (or version) by that id
    ├── Conflict (409 conflict) .................. e.g. ending an emergency that already ended
    │   ├── AuditTampered (409 audit_tampered) ... the chain no longer holds a signed checkpoint: nothing is signed
    │   └── MouStateConflict (409 mou_state) ..... an MOU action its version's state refuses: approving a hash
    │                                              that is not the current text, a terminated MOU, a version
    │                                              in force; ``state`` names it
    ├── ContentTooLarge (413 content_too_large) .. a body over ``server.max_body_bytes``, refused unread
    ├── RateLimited (429 rate_limited) ........... too many declarations by one principal or trigger device
    │   │                                          (``emergencies.rate_limit``); Retry-After
    │   └── TooManyStreams (429 too_many_streams)  an event stream over a principal's or the replica's
    │                                              cap; Retry-After
    ├── UpstreamError (502 upstream_error) ....... a camera system failed or answered badly
    │   ├── HostilePlaylist (502 hostile_playlist)  playlist pointing outside its system, too big, ...
    │   └── UpstreamAuth (502 upstream_auth) ..... the camera system refused the broker's credentials
    ├── UpstreamTimeout (504 upstream_timeout)
    ├── NotImplementedUpstream (501 not_implemented)
    │   ├── RecordingUnsupported (501 recording_unsupported)  the camera's system keeps no readable recordings
    │   ├── LiveUnsupported (501 live_unsupported)  the camera's system has no live video (an evidence folder)
    │   └── SnapshotUnsupported (501 snapshot_unsupported)  nor a current picture
    ├── ServiceUnavailable (503 unavailable)
    │   ├── AuditUnavailable (503 audit_unavailable)  fail closed: no record, no access
    │   ├── StoreUnavailable (503 store_unavailable)
    │   └── GatewayBusy (503 gateway_busy) ....... the RTSP gateway runs its most processes; Retry-After
    └── ConfigError (500 config_error) ........... refused settings at start-up (not an HTTP answer)
"""

from __future__ import annotations

from typing import Any, ClassVar


class CamgateError(Exception):
    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body.update({k: v for k, v in self.details.items() if v is not None})
        return body

    def headers(self) -> dict[str, str]:
        """HTTP headers that go out with the answer (none by default)."""
        return {}


class InputError(CamgateError):
    code = "invalid_input"
    status = 422


class DocumentError(InputError):
    """Validation failed; ``issues`` holds every problem as (file, line, path, message)."""

    code = "invalid_document"

    def __init__(self, issues: list[tuple[str, int, str, str]]) -> None:
        self.issues = issues
        first = issues[0] if issues else ("", 0, "", "invalid document")
        super().__init__(f"{len(issues)} error(s); first: {first[2]}: {first[3]}", lines=self.lines())

    def lines(self) -> list[str]:
        return [f"{f}:{line}: {path}: {msg}" for f, line, path, msg in self.issues]


class InvalidRequest(InputError):
    code = "invalid_request"


class AuthenticationError(CamgateError):
    code = "unauthenticated"
    status = 401


class StreamTokenError(AuthenticationError):
    code = "invalid_stream_token"


class SignatureError(AuthenticationError):
    """Standard Webhooks signature missing, not matching any of the source's secrets, or its timestamp stale."""

    code = "invalid_signature"


class PermissionDenied(CamgateError):
    code = "forbidden"
    status = 403


class AccessDenied(PermissionDenied):
    code = "access_denied"


class NotFound(CamgateError):
    code = "not_found"
    status = 404


class UnknownCamera(NotFound):
    code = "unknown_camera"


class UnknownEmergency(NotFound):
    code = "unknown_emergency"


class NoRecording(NotFound):
    code = "no_recording"


class Conflict(CamgateError):
    code = "conflict"
    status = 409


class MouStateConflict(Conflict):
    """Issue 14: an MOU action the version's state refuses (details: ``state``, ``sha256`` where it matters)."""

    code = "mou_state"


class UnknownMou(NotFound):
    code = "unknown_mou"


class ContentTooLarge(CamgateError):
    """RFC 9110 §15.5.14: a request body larger than ``server.max_body_bytes`` (checked after authentication)."""

    code = "content_too_large"
    status = 413


class AuditTampered(Conflict):
    """The audit chain no longer contains a checkpoint signed earlier (cut back, rolled back or rewritten): the
    broker signs nothing more over it; ``camgate audit verify`` names the first bad record."""

    code = "audit_tampered"


class RateLimited(CamgateError):
    """Too many requests of one kind from one principal in a window (RFC 6585 §4); try again after ``retry_after``."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # RFC 6585 §4 / RFC 9110 §10.2.3: delay-seconds


class TooManyStreams(RateLimited):
    """``GET /api/v1/events``: the caller (or this replica) holds as many streams as allowed (settings
    ``console.events_per_principal``, ``console.events_max_streams``); close one or try again later."""

    code = "too_many_streams"


class UpstreamError(CamgateError):
    code = "upstream_error"
    status = 502


class HostilePlaylist(UpstreamError):
    code = "hostile_playlist"


class UpstreamAuth(UpstreamError):
    """The camera system refused the credentials the broker holds for it (HTTP or RTSP 401/403): its operators
    must fix the secret; a viewer is told no more than that."""

    code = "upstream_auth"


class UpstreamTimeout(CamgateError):
    code = "upstream_timeout"
    status = 504


class NotImplementedUpstream(CamgateError):
    """The camera system cannot do what was asked (RFC 9110 §15.6.2: a capability, not a fault); not retried."""

    code = "not_implemented"
    status = 501


class RecordingUnsupported(NotImplementedUpstream):
    code = "recording_unsupported"


class LiveUnsupported(NotImplementedUpstream):
    """The camera's system keeps recorded footage only (e.g. exported body-camera evidence): ask for playback."""

    code = "live_unsupported"


class SnapshotUnsupported(NotImplementedUpstream):
    code = "snapshot_unsupported"


class ServiceUnavailable(CamgateError):
    code = "unavailable"
    status = 503


class AuditUnavailable(ServiceUnavailable):
    """Fail closed: the audit record could not be made durable, so nothing is answered; try again shortly."""

    code = "audit_unavailable"
    retry_after = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # RFC 9110 §10.2.3: delay-seconds


class StoreUnavailable(ServiceUnavailable):
    code = "store_unavailable"
    retry_after = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # RFC 9110 §10.2.3: a 503 says when to try again


class GatewayBusy(ServiceUnavailable):
    """Every RTSP gateway process slot is taken (settings ``gateway.max_processes``); try again later."""

    code = "gateway_busy"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # RFC 9110 §10.2.3: delay-seconds


class ConfigError(CamgateError):
    code = "config_error"

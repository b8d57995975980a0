"""Error answers in the OpenAPI description, derived from the exception tree of ``broker/errors.py``.

A route names the errors its handler can raise; the statuses, codes and body schema follow from the tree::

    @router.get("/{camera_id}/live.m3u8", responses=raises(AccessDenied, UnknownCamera, UpstreamError))
    async def live_playlist(...): ...

``raises`` turns each class into its ``status`` and ``code`` (``AccessDenied`` → 403 ``access_denied``),
several classes of one status into one answer whose ``error`` is the enum of their codes. What the framework
answers by itself is added to every operation when the description is built (``broker/api/openapi.py``),
so a route never lists it: 401 ``unauthenticated`` on every route that needs a token, 422 ``invalid_request``
where there is a parameter or a body, 404 ``not_found`` where the path has parameters (a value with ``/``
matches no route), 400 ``bad_request`` where there is a body, and 500 ``internal_error`` everywhere.

Every error body is :class:`ErrorBody` (``#/components/schemas/Error``): exactly what ``CamgateError.to_dict``
and the app's handlers send, no other property. A new route (an admin route, say) gets all of this by
passing ``responses=raises(...)``; forgetting an error it raises fails the schemathesis test in ``make test``
(``tests/api/test_openapi_schemathesis.py``) with "undocumented status code".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from broker.errors import (
    AuditUnavailable,
    AuthenticationError,
    CamgateError,
    GatewayBusy,
    RateLimited,
    StoreUnavailable,
    TooManyStreams,
)

ERROR_REF = "#/components/schemas/Error"
CODES_KEY = "x-camgate-error-codes"  # the codes of one answer, kept so the builder can merge more in
# The answers of the app's own handlers (broker/api/app.py) that no CamgateError subclass stands for.
FRAMEWORK_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 422: "invalid_request"}
# RFC 6750 §3: a 401 names the Bearer scheme and the error in WWW-Authenticate.
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": 'RFC 6750 §3: `Bearer error="invalid_token", error_description="…"`',
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer "},
    }
}

# RFC 9110 §10.2.3: how long to wait before asking again (sent with these 503s and 429s, RFC 6585 §4).
RETRY_AFTER_CODES = (
    AuditUnavailable.code,
    GatewayBusy.code,
    StoreUnavailable.code,
    RateLimited.code,
    TooManyStreams.code,
)
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again (RFC 9110 §10.2.3); with "
        + ", ".join(f"`{code}`" for code in RETRY_AFTER_CODES),
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


class FieldError(BaseModel):
    """One field of a refused request (422 from validation)."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="The request field: `threat`, `center.lat`, `limit`; `body` for the body itself")
    message: str


class ErrorBody(BaseModel):
    """The body of every error answer: ``error`` is a stable code, ``message`` says what went wrong."""

    model_config = ConfigDict(extra="forbid", title="Error")
    error: str = Field(description="Stable error code (broker/errors.py)")
    message: str
    field: str | None = Field(None, description="The request field at fault (422)")
    errors: list[FieldError] | None = Field(None, description="Every field at fault (422 from validation)")
    lines: list[str] | None = Field(
        None, description="422 invalid_document: every problem as `FILE:LINE: path.to.field: message`"
    )
    reason: str | None = Field(None, description="The contract's reason code (403 access_denied, 401 stream token)")
    mou: str | None = Field(None, description="403 access_denied: the MOU tried")
    grant: str | None = Field(None, description="403 access_denied: the grant tried")
    clause: str | None = Field(None, description="403 access_denied: the MOU clause tried")
    issuer: str | None = Field(None, description="401: the token issuer whose keys failed")
    upstream_status: int | None = Field(None, description="502: the camera system's HTTP status")
    line: int | None = Field(None, description="502 hostile_playlist: the playlist line refused")
    # Issue 14: what a 409 mou_state names (broker/admin/mous/service.py).
    state: str | None = Field(None, description="409 mou_state: the version's (or roster's) state, or `files`")
    sha256: str | None = Field(None, description="409 mou_state: the SHA-256 of the version's current text")


def error_components() -> dict[str, Any]:
    """``Error`` and ``FieldError`` for ``components.schemas``; absent optional fields are omitted, never null."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    for model in (schema, *defs.values()):
        for prop in model.get("properties", {}).values():
            branches = prop.pop("anyOf", None)
            if branches is not None:  # to_dict() drops None values: `x | None` means "may be absent"
                prop.update(next(b for b in branches if b.get("type") != "null"))
            prop.pop("default", None)
    return {"Error": schema, **defs}


def error_answer(status: int, codes: Iterable[str]) -> dict[str, Any]:
    """One documented error answer: ``Error`` with ``error`` limited to ``codes``."""
    ordered = sorted(set(codes))
    answer: dict[str, Any] = {
        "description": f"Error: {', '.join(f'`{c}`' for c in ordered)}",
        "content": {
            "application/json": {"schema": {"allOf": [{"$ref": ERROR_REF}], "properties": {"error": {"enum": ordered}}}}
        },
        CODES_KEY: ordered,
    }
    if status == AuthenticationError.status:
        answer["headers"] = WWW_AUTHENTICATE
    if set(RETRY_AFTER_CODES) & set(ordered):
        answer["headers"] = RETRY_AFTER
    return answer


def raises(*errors: type[CamgateError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route whose handler can raise ``errors`` (each class stands for its own code only)."""
    by_status: dict[int, set[str]] = {}
    for error in errors:
        by_status.setdefault(error.status, set()).add(error.code)
    return {status: error_answer(status, codes) for status, codes in sorted(by_status.items())}


def add_codes(responses: dict[str, Any], status: int, codes: Iterable[str]) -> None:
    """Merge ``codes`` into the operation's answer for ``status`` (creating it)."""
    key = str(status)
    known = responses.get(key, {}).get(CODES_KEY, [])
    merged = error_answer(status, [*known, *codes])
    responses[key] = {**responses.get(key, {}), **merged}

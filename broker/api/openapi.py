"""The OpenAPI description served at ``/openapi.json``: FastAPI's, completed so that it is exact.

FastAPI documents what the routes declare (parameters, bodies, ``responses=raises(...)``, response models and
classes). This adds, for every operation, what the app itself does and FastAPI cannot know:

- the security the route really has, from its marker in ``broker/api/security.py``: bearer JWT or the console
  session cookie, plus ``?access_token=`` (RFC 6750 §2.3) for ``@query_token`` routes, none for ``@public``
  and ``@signed_url`` ones; 403 ``forbidden`` on every write that a session cookie may authenticate (CSRF);
- the error answers of the framework (401, 404, 400, 422, 500; ``broker/api/errordoc.py``), with the one
  error body schema instead of FastAPI's ``HTTPValidationError``, which the broker never sends;
- optional query parameters documented as what they are, optional (FastAPI writes ``anyOf [T, null]``, which
  a client can only send as an empty string, and the broker refuses that for non-strings);
- examples on every date-time query parameter: a valid instant, and the two RFC 3339 date-times no UTC
  instant represents (answered 422 naming the parameter), which schemathesis's examples phase then sends.

405 answers are not operations of the path; they carry ``Allow`` (RFC 9110 §15.5.6, ``broker/api/app.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from broker.api.errordoc import CODES_KEY, FRAMEWORK_CODES, add_codes, error_components
from broker.api.security import ACCESS_ATTR, SAFE_METHODS
from broker.errors import AuthenticationError, CamgateError, ContentTooLarge, PermissionDenied

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "RFC 6750 §2.1"},
    "access_token": {
        "type": "apiKey",
        "in": "query",
        "name": "access_token",
        "description": "The same JWT as a query parameter, for players that cannot send headers (RFC 6750 §2.3)",
    },
    "console_session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "camgate_session",
        "description": "The web console's session (sign-in at /auth/login). POST, PUT, PATCH and DELETE with it "
        "also need the session's csrf_token (GET /api/v1/session) in X-CSRF-Token and an Origin "
        "(or Referer) of the broker's own origin, else 403 forbidden",
    },
    "webhook_signature": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks: `v1,<base64 HMAC-SHA256 of webhook-id.webhook-timestamp.body>` with the "
        "source's whsec_ secret, with the webhook-id and webhook-timestamp headers",
    },
}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "bearer": [{"bearer": []}, {"console_session": []}],
    "query_token": [{"bearer": []}, {"access_token": []}, {"console_session": []}],
    "public": [],
    "signed_url": [],
    "signed_webhook": [{"webhook_signature": []}],
}
_UNUSED = ("HTTPValidationError", "ValidationError")
DATE_TIME_EXAMPLES = {
    "instant": {"summary": "An instant with its offset", "value": "2026-09-14T12:00:00Z"},
    "before_year_1": {"summary": "Before year 1 in UTC: 422", "value": "0001-01-01T00:00:00+14:00"},
    "after_year_9999": {"summary": "After year 9999 in UTC: 422", "value": "9999-12-31T23:59:59-14:00"},
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's description (built once, then cached on the app like FastAPI's own)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        openapi_version=app.openapi_version,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _UNUSED:
        schemas.pop(name, None)
    schemas.update(error_components())
    components["securitySchemes"] = SECURITY_SCHEMES
    schema["security"] = SECURITY["bearer"]
    for route in iter_route_contexts(app.routes):  # included routers' routes too, with their prefixes
        original = route.original_route
        if not isinstance(original, APIRoute) or not original.include_in_schema or route.path_format is None:
            continue
        access = getattr(route.endpoint, ACCESS_ATTR, "bearer")
        for method in route.methods or ():
            complete_operation(schema["paths"][route.path_format][method.lower()], access, method)
    app.openapi_schema = schema
    return schema


def complete_operation(op: dict[str, Any], access: str, method: str = "GET") -> None:
    """Security, framework error answers and parameter schemas of one operation (see the module docstring)."""
    op["security"] = SECURITY[access]
    params: list[dict[str, Any]] = op.get("parameters", [])
    for param in params:
        _not_nullable(param["schema"])
        if param["in"] == "query" and param["schema"].get("format") == "date-time":
            param.setdefault("examples", DATE_TIME_EXAMPLES)
    responses: dict[str, Any] = op.setdefault("responses", {})
    if "422" in responses and CODES_KEY not in responses["422"]:
        del responses["422"]  # FastAPI's HTTPValidationError: replaced by the broker's own body below
    if access in ("bearer", "query_token"):
        add_codes(responses, AuthenticationError.status, [AuthenticationError.code])
        if method.upper() not in SAFE_METHODS:  # a console-session write without its CSRF token / Origin
            add_codes(responses, PermissionDenied.status, [PermissionDenied.code])
    if any(p["in"] == "path" for p in params):
        add_codes(responses, 404, [FRAMEWORK_CODES[404]])
    if "requestBody" in op:
        add_codes(responses, 400, [FRAMEWORK_CODES[400]])
        if access in ("bearer", "query_token"):  # over server.max_body_bytes (broker/api/bodygate.py)
            add_codes(responses, ContentTooLarge.status, [ContentTooLarge.code])
    if params or "requestBody" in op:
        add_codes(responses, 422, [FRAMEWORK_CODES[422]])
    add_codes(responses, CamgateError.status, [CamgateError.code])
    op["responses"] = {k: _public(v) for k, v in sorted(responses.items())}


def _public(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != CODES_KEY}


def _not_nullable(schema: dict[str, Any]) -> None:
    if schema.get("default", 0) is None:
        del schema["default"]
    branches = schema.get("anyOf")
    if branches is None:
        return
    rest = [b for b in branches if b.get("type") != "null"]
    if len(rest) == 1:
        del schema["anyOf"]
        schema.update(rest[0])
    else:
        schema["anyOf"] = rest

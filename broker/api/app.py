"""The app factory: one settings root in, a FastAPI app out; deny by default."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from broker.api.allow import allow_header
from broker.api.bodygate import BodyGate
from broker.api.cors import Cors
from broker.api.errordoc import FRAMEWORK_CODES
from broker.api.openapi import build_openapi
from broker.api.routes import (
    admin,
    audit,
    cameras,
    checkpoints,
    classification,  # camera classification (issue 14, item 7)
    console,
    devsignin,
    emergencies,
    events,
    health,
    inventory,
    mouadmin,
    moudiff,
    mouroster,
    mous,
    sharing,
    signin,
    systems,
    timeline,
    triggers,
    viewing,
)
from broker.api.security import SELF_AUTHENTICATED, access_of, require_authentication
from broker.api.services import Services, build_services
from broker.clock import Clock
from broker.errors import AuthenticationError, CamgateError, DocumentError, PermissionDenied
from broker.inventory.merge import MergeError
from broker.settings import Settings, load_settings

log = logging.getLogger("camgate")
HOUSEKEEPING_SECONDS = 1.0
_NOT_QDTEXT = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")  # RFC 6750 §3: error_description characters
_SOURCES = ("body", "query", "path", "header", "cookie")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    http: httpx.AsyncClient | None = None,
    housekeeping: bool = True,
    dispatch: bool | None = None,
) -> FastAPI:
    """``housekeeping``: run the periodic tick; ``dispatch``: deliver webhook notices (default: as housekeeping)."""
    settings = settings or load_settings()
    services = build_services(settings, clock=clock, http=http)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.start()
        # Ready only once the audit log was seen taking a write: /readyz must not say 200 before the first tick.
        await run_in_threadpool(services.audit.probe)
        task = asyncio.create_task(_housekeeping(services)) if housekeeping else None
        syncing = housekeeping and services.settings.inventory_sync.enabled
        sync = asyncio.create_task(_periodic_sync(services)) if syncing else None
        deliver = (housekeeping if dispatch is None else dispatch) and services.dispatcher is not None
        sender = asyncio.create_task(services.dispatcher.run()) if deliver and services.dispatcher else None
        hup = _reload_on_sighup(services)
        try:
            yield
        finally:
            if hup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            for running in (task, sender, sync):
                if running is not None:
                    running.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await running
            await services.aclose()

    # FastAPI's own /openapi.json, /docs and /redoc are plain routes outside the app-wide dependency, i.e.
    # open to anyone: turned off, and the schema served below as an ordinary (authenticated) route.
    app = FastAPI(
        title="camgate",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(require_authentication)],
        description="Access-control broker for shared camera feeds governed by MOUs.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    for module in (
        health,
        cameras,
        emergencies,
        timeline,
        triggers,
        audit,
        checkpoints,
        admin,
        inventory,
        sharing,
        mous,
        mouadmin,
        moudiff,
        mouroster,
        systems,
        signin,
        events,
        console,
        viewing,
    ):
        app.include_router(module.router)
    app.include_router(classification.router)  # camera classification (issue 14, item 7)
    if settings.mode == "dev":  # the demo's identity provider (personas): never mounted outside dev mode
        devsignin.mount(app, services)
    # Sign-ins under way: a short-lived signed cookie on /auth binds the provider's callback to the browser
    # that started it (authlib keeps a state marker there; state, nonce and verifier stay server-side).
    app.add_middleware(
        SessionMiddleware,
        secret_key=hmac.new(settings.stream_secret(), b"console-login", "sha256").hexdigest(),
        session_cookie="camgate_login",
        max_age=600,
        path="/auth",
        same_site="lax",
        https_only=settings.mode != "dev",
    )

    # Authentication before the body is read, then server.max_body_bytes (413): broker/api/bodygate.py.
    app.add_middleware(BodyGate, api=app, limit=settings.server.max_body_bytes, answer=_error_response)
    # Outermost: a CORS preflight is answered before authentication (it carries no credentials, Fetch §4.8),
    # and every answer of an embeddable route, refusals included, gets its CORS headers (broker/api/cors.py).
    cors = settings.http
    app.add_middleware(Cors, api=app, origins=cors.cors_origins, max_age=cors.cors_max_age_seconds)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return build_openapi(app)

    _install_error_handlers(app)
    return app


async def _housekeeping(services: Services) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        try:
            await run_in_threadpool(services.tick)
        except CamgateError as exc:  # audit or store down: try again next tick
            log.warning("housekeeping: %s", exc.message)
        except Exception:  # never let one bad tick end housekeeping for the life of the process
            log.exception("housekeeping failed")
        try:
            services.retire_adapters()
            await services.close_retired()
        except Exception:
            log.exception("closing replaced adapters failed")


async def _periodic_sync(services: Services) -> None:
    """Inventory sync every ``inventory_sync.interval_seconds`` by the services' clock, the first one at once."""
    interval = timedelta(seconds=services.settings.inventory_sync.interval_seconds)
    due = services.clock.now()
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        if services.clock.now() < due:
            continue
        try:
            await services.sync_inventory("periodic")
        except DocumentError as exc:
            log.warning("inventory sync refused: the inventory file is invalid:\n%s", "\n".join(exc.lines()))
        except CamgateError as exc:  # audit or store down, the file changed meanwhile: next time
            log.warning("inventory sync failed: %s", exc.message)
        except (MergeError, OSError) as exc:  # cannot edit the document safely, or cannot write it
            log.warning("inventory sync failed, nothing written: %s", exc)
        except Exception:  # never let one bad sync end the task for the life of the process
            log.exception("inventory sync failed")
        due = services.clock.now() + interval


def _reload_on_sighup(services: Services) -> bool:
    """``kill -HUP``: re-read the documents, like ``POST /api/v1/admin/reload`` (main thread only)."""
    tasks: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        try:
            await services.reload("sighup")
        except DocumentError:
            pass  # logged, every error with its line, and recorded by the reloader
        except CamgateError as exc:
            log.warning("reload (sighup) failed, the running policy is unchanged: %s", exc.message)

    def on_hup() -> None:
        task = asyncio.create_task(reload())
        tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(tasks.discard)

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_hup)
    except (ValueError, RuntimeError, NotImplementedError):  # not the main thread (test clients), or no SIGHUP
        return False
    return True


def _error_response(exc: CamgateError) -> JSONResponse:
    headers = exc.headers()
    if isinstance(exc, AuthenticationError):  # RFC 6750 §3: a 401 names the scheme and the error
        # The message may quote the token (its alg, kid): never let it break or inject a header line.
        description = _NOT_QDTEXT.sub("?", exc.message[:200])
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{description}"'
    if exc.status >= 500:
        log.warning("%s: %s", exc.code, exc.message)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


def _field(error: Any) -> str:
    """The request field an error is about: ``threat``, ``center.lat``, ``limit`` (``body`` for the body itself)."""
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") == "json_invalid" or len(loc) < 2 or loc[0] not in _SOURCES:
        return loc[0] if loc else "body"
    return ".".join(loc[1:])


async def _unauthenticated(request: Request) -> JSONResponse | None:
    """The 401 for a closed route's request that failed before authentication ran, else None.

    FastAPI parses the body before it runs the dependencies, so a body that is not JSON would be answered
    without the token ever being checked: authenticate first, so an anonymous caller learns nothing about
    a route's input (deny by default).
    """
    if access_of(request) in SELF_AUTHENTICATED or getattr(request.state, "principal", None) is not None:
        return None
    try:
        await require_authentication(request)
    except (AuthenticationError, PermissionDenied) as exc:  # PermissionDenied: a cookie write without CSRF
        return _error_response(exc)
    return None


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CamgateError)
    async def camgate_error(_: Request, exc: CamgateError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if (refusal := await _unauthenticated(request)) is not None:
            return refusal
        errors = [
            {"field": _field(e), "message": str(e.get("msg", "")).removeprefix("Value error, ")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        body: dict[str, Any] = {
            "error": "invalid_request",
            "message": f"{first['field']}: {first['message']}",
            "field": first["field"],
            "errors": errors,
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and (refusal := await _unauthenticated(request)) is not None:
            return refusal  # a body FastAPI could not even parse (not UTF-8, nested too deep)
        code = FRAMEWORK_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})  # the exception's headers go out with the JSON body
        if exc.status_code == 405:  # RFC 9110 §15.5.6: a 405 MUST name the target's methods in Allow
            allow = allow_header(app, request.url.path)
            if allow:
                headers["Allow"] = allow
        return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"error": "internal_error", "message": "internal error"}, status_code=500)

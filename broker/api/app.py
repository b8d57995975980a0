"""The app factory: one settings root in, a FastAPI app out; deny by default."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from broker.api.routes import audit, cameras, emergencies, health
from broker.api.security import require_authentication
from broker.api.services import Services, build_services
from broker.clock import Clock
from broker.errors import AuthenticationError, CamgateError
from broker.settings import Settings, load_settings

log = logging.getLogger("camgate")
HOUSEKEEPING_SECONDS = 1.0


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, http: httpx.AsyncClient | None = None,
    housekeeping: bool = True,
) -> FastAPI:  # fmt: skip
    settings = settings or load_settings()
    services = build_services(settings, clock=clock, http=http)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_housekeeping(services)) if housekeeping else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.aclose()

    app = FastAPI(
        title="camgate", version="0.1.0", lifespan=lifespan, dependencies=[Depends(require_authentication)],
        description="Access-control broker for shared camera feeds governed by MOUs.",
    )  # fmt: skip
    app.state.services = services
    for module in (health, cameras, emergencies, audit):
        app.include_router(module.router)
    _install_error_handlers(app)
    return app


async def _housekeeping(services: Services) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        try:
            await run_in_threadpool(services.tick)
        except CamgateError as exc:  # audit or store down: try again next tick
            log.warning("housekeeping: %s", exc.message)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CamgateError)
    async def camgate_error(_: Request, exc: CamgateError) -> JSONResponse:
        headers = {}
        if isinstance(exc, AuthenticationError):  # RFC 6750 §3: a 401 names the scheme and the error
            headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{exc.message[:200]}"'
        if exc.status >= 500:
            log.warning("%s: %s", exc.code, exc.message)
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg", "")).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        body: dict[str, Any] = {"error": "invalid_request", "message": f"{first['field']}: {first['message']}",
                                "field": first["field"], "errors": errors}  # fmt: skip
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"error": "internal_error", "message": "internal error"}, status_code=500)

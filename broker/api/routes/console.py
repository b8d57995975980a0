"""The web console's static files, opened explicitly (``@public``): they hold no data, the pages read the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from broker.api.security import public
from broker.api.staticfiles import AssetCache, serve
from broker.console import STATIC

router = APIRouter(tags=["console"], include_in_schema=False)

#: Self only: no inline script or style, no other origin. ``blob:`` media is hls.js's MediaSource object URL.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
JS = "text/javascript; charset=utf-8"
TYPES = {".html": "text/html; charset=utf-8", ".js": JS, ".mjs": JS, ".css": "text/css; charset=utf-8",
         ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}  # fmt: skip


ASSETS = AssetCache()


def resolve(path: str, root: Path = STATIC) -> Path | None:
    """The file under ``root`` that ``path`` names (a directory: its index.html), or None; never outside root."""
    base = root.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() or target.suffix not in TYPES:
        return None
    return target


@router.get("/console")
@public
async def console_root() -> Response:
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/{path:path}")
@public
async def console_file(path: str, request: Request) -> Response:
    target = resolve(path)
    if target is None:
        return JSONResponse(
            {"error": "not_found", "message": f"no console file {path!r}; open /console/"},
            status_code=404, headers=HEADERS,
        )  # fmt: skip
    return serve(request, ASSETS.get(target), TYPES[target.suffix], HEADERS)

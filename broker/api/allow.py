"""The ``Allow`` header of a 405 answer: every method of every route whose path matches (RFC 9110 §15.5.6).

Starlette's router stops at the first route whose path matches and names only that route's methods, but
FastAPI registers ``GET /api/v1/emergencies`` and ``POST /api/v1/emergencies`` as two routes: a 405 would
claim that the resource has only one of them. The table of paths is built once, on the first 405.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

Table = tuple[tuple[re.Pattern[str], frozenset[str]], ...]


def _table(app: FastAPI) -> Table:
    table: Table | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = app.state.allow_table = _build(app)
    return table


def _build(app: FastAPI) -> Table:
    rows: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):  # included routers' routes too, with their prefixes
        if route.path_format is not None and route.methods:
            rows.setdefault(route.path_format, set()).update(route.methods)
    return tuple((compile_path(path)[0], frozenset(methods)) for path, methods in rows.items())


def allow_header(app: FastAPI, path: str) -> str | None:
    """``"GET, POST"`` for ``path``, or None when no route has that path."""
    methods = {m for regex, ms in _table(app) if regex.match(path) for m in ms}
    return ", ".join(sorted(methods)) or None

"""Process logging for ``camgate serve`` and ``camgate demo``: one line per event, its structured fields kept,
and no credential in any line.

The broker's modules log to ``camgate.*`` (and ``broker.*``) loggers and pass machine-readable fields as
``extra`` (e.g. ``camgate.audit``'s ``event="audit.unwritable"`` with its ``reason``). Without a handler of
its own Python's fallback prints WARNING and above as bare text and drops those fields; this formatter keeps
them, as JSON after the message, so a log shipper can alert on ``event``.

Every line camgate or uvicorn writes (access log, error log, our own lines, tracebacks) goes through
:func:`redact`: query strings lose their values (``?access_token=[redacted]``: players that cannot send headers
put bearer tokens there, OWASP Logging Cheat Sheet "data to exclude": access tokens), and JWT-shaped strings,
``Bearer`` credentials and URL user-info are blanked wherever they appear.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
from typing import Any

from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter, DefaultFormatter

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
ROOTS = ("camgate", "broker", "adapters")
REDACTED = "[redacted]"

_QUERY = re.compile(r"\?([^\s\"'<>]+)")  # a query string: from "?" to the end of the URL
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # RFC 7519 compact form (JWS)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")  # RFC 6750 §2.1 credentials
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\"']+@")  # RFC 3986 §3.2.1: user:password@


def _query(match: re.Match[str]) -> str:
    names = (part.split("=", 1)[0] for part in match.group(1).split("&"))
    return "?" + "&".join(f"{name}={REDACTED}" for name in names)


def redact(line: str) -> str:
    """``line`` with every query value, JWT, bearer credential and URL password replaced by ``[redacted]``."""
    line = _QUERY.sub(_query, line)
    line = _JWT.sub(REDACTED, line)
    line = _BEARER.sub(rf"\1 {REDACTED}", line)
    return _USERINFO.sub(rf"\1{REDACTED}@", line)


class FieldsFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger>: <message> {"event": …, …}``: the record's extra fields as one JSON object."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields: dict[str, Any] = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if fields:
            line += " " + json.dumps(fields, default=str, sort_keys=True)
        return redact(line)


class RedactedDefaultFormatter(DefaultFormatter):
    """uvicorn's error log (``uvicorn``, ``uvicorn.error``, and here every other library's warnings), redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactedAccessFormatter(AccessFormatter):
    """uvicorn's access log (``"GET /path?query HTTP/1.1" 200``) with the query's values redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the redacting formatters, and a root handler so that the
    warnings of libraries with none of their own (asyncio, httpx, …) are redacted too instead of going to
    Python's bare fallback."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.RedactedDefaultFormatter"
    config["formatters"]["access"]["()"] = f"{__name__}.RedactedAccessFormatter"
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config


def configure(level: int = logging.INFO) -> logging.Handler:
    """Send the broker's loggers to stderr with :class:`FieldsFormatter` (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FieldsFormatter())
    handler.set_name("camgate")
    for name in ROOTS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if h.get_name() != "camgate"] + [handler]
        logger.setLevel(level)
        logger.propagate = False
    return handler

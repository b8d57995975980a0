"""Process logging for ``camgate serve`` and ``camgate demo``: one line per event, its structured fields kept.

The broker's modules log to ``camgate.*`` (and ``broker.*``) loggers and pass machine-readable fields as
``extra`` (e.g. ``camgate.audit``'s ``event="audit.unwritable"`` with its ``reason``). Without a handler of
its own Python's fallback prints WARNING and above as bare text and drops those fields; this formatter keeps
them, as JSON after the message, so a log shipper can alert on ``event``.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
ROOTS = ("camgate", "broker", "adapters")


class FieldsFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger>: <message> {"event": …, …}``: the record's extra fields as one JSON object."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields: dict[str, Any] = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if fields:
            line += " " + json.dumps(fields, default=str, sort_keys=True)
        return line


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

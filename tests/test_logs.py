"""The serve/demo log handler keeps the structured fields a log shipper alerts on."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from broker.logs import FieldsFormatter, configure


def test_extra_fields_follow_the_message_as_json() -> None:
    record = logging.LogRecord(
        "camgate.audit", logging.ERROR, __file__, 1, "audit store not writable: %s", ("x",), None
    )
    record.event = "audit.unwritable"
    record.reason = "disk full"
    line = FieldsFormatter().format(record)
    head, _, fields = line.partition(" {")
    assert head.endswith("ERROR camgate.audit: audit store not writable: x")
    assert json.loads("{" + fields) == {"event": "audit.unwritable", "reason": "disk full"}


def test_a_plain_line_has_no_fields() -> None:
    record = logging.LogRecord("camgate", logging.INFO, __file__, 1, "started", None, None)
    assert FieldsFormatter().format(record).endswith("INFO camgate: started")


def test_configure_is_idempotent_and_reaches_the_audit_logger(capsys: pytest.CaptureFixture[str]) -> None:
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
        for n in ("camgate", "broker", "adapters")
    }
    try:
        configure()
        configure()
        assert len([h for h in logging.getLogger("camgate").handlers if h.get_name() == "camgate"]) == 1
        logging.getLogger("camgate.audit").error("down", extra={"event": "audit.unwritable"})
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].endswith('down {"event": "audit.unwritable"}')
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.level, logger.propagate = handlers, level, propagate


def test_redact_blanks_query_values_jwts_bearer_and_url_passwords() -> None:
    from broker.logs import redact

    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    line = redact(
        f'127.0.0.1:5 - "GET /api/v1/cameras/c/live.m3u8?access_token={jwt}&start=2026 HTTP/1.1" 200 '
        f"token={jwt} Authorization: Bearer abc.def rtsp://cam:S3cr3t@10.0.0.9/stream"
    )
    assert line == (
        '127.0.0.1:5 - "GET /api/v1/cameras/c/live.m3u8?access_token=[redacted]&start=[redacted] HTTP/1.1" 200 '
        "token=[redacted] Authorization: Bearer [redacted] rtsp://[redacted]@10.0.0.9/stream"
    )
    assert redact("nothing? to hide here") == "nothing? to hide here"


def test_uvicorns_access_and_error_formatters_redact_even_tracebacks() -> None:
    from broker.logs import RedactedAccessFormatter, RedactedDefaultFormatter, uvicorn_log_config

    config = uvicorn_log_config()
    assert config["formatters"]["access"]["()"] == "broker.logs.RedactedAccessFormatter"
    assert config["formatters"]["default"]["()"] == "broker.logs.RedactedDefaultFormatter"
    assert config["root"]["handlers"] == ["default"]  # other libraries' warnings: redacted too
    args = ("127.0.0.1:9", "GET", "/x?access_token=eyJa.eyJb.c", "1.1", 200)
    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)
    assert "eyJ" not in RedactedAccessFormatter(config["formatters"]["access"]["fmt"]).format(access)
    try:
        raise ValueError("bad url /x?access_token=secret-value")
    except ValueError:
        error = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    assert "secret-value" not in RedactedDefaultFormatter("%(message)s").format(error)

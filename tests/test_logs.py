"""The serve/demo log handler keeps the structured fields a log shipper alerts on."""

from __future__ import annotations

import json
import logging

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

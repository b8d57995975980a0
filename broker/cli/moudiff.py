"""``camgate mou diff OLD NEW``: what changed between two MOU files, and who would gain or lose what (issue 14).

The same report as ``GET /api/v1/mous/{mou}/diff`` (:mod:`broker.admin.mous.redline`): the changes in plain
words, then the impact against the inventory (``--inventory``, default the settings' ``policy.inventory``), asked
of the decision point, and the cameras by site. ``--mou`` adds other MOUs in force (their never zones still deny).
An invalid file: its ``FILE:LINE: path: message`` lines and exit 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built at every start of camgate: the decision point is imported when run
    from broker.documents.inventory import Inventory
    from broker.documents.mou import Mou


def add_parser(mou: Any) -> None:
    """``diff`` under ``camgate mou`` (``mou`` is its subparsers)."""
    p = mou.add_parser("diff", help="what changed between two MOU files, and who gains or loses which cameras")
    p.add_argument("old", metavar="OLD", help="the MOU file as it is (e.g. the version in force)")
    p.add_argument("new", metavar="NEW", help="the MOU file as proposed")
    p.add_argument("--inventory", help="the inventory to count cameras in (default: the settings' policy.inventory)")
    p.add_argument("--mou", action="append", default=[], help="another MOU in force, file or directory (repeatable)")
    p.add_argument("--at", help="the instant to decide at, ISO 8601 with offset (default: now)")
    p.add_argument("--json", action="store_true", help="the report as JSON, as the API answers it")


def main(args: argparse.Namespace) -> int:
    from broker.errors import CamgateError

    if args.config:
        os.environ["CAMGATE_CONFIG"] = args.config
    try:
        return run(args)
    except CamgateError as exc:  # settings refused, a malformed --at
        print(f"camgate: {exc.message}", file=sys.stderr)
        return 2


def _read_mou(path: str, inv: Inventory) -> tuple[Mou | None, list[str], bytes]:
    from broker.documents.loader import parse_mou_text
    from broker.errors import DocumentError

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [f"{path}:0: (document): cannot read: {exc.strerror or exc}"], b""
    doc, issues = parse_mou_text(raw, path, inv.index())
    return doc, DocumentError(issues).lines() if issues else [], raw


def _instant(text: str | None) -> datetime:
    from broker.clock import SystemClock
    from broker.errors import InvalidRequest

    if text is None:
        return SystemClock().now()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"--at {text!r} is not an ISO 8601 instant", field="at") from None
    if at.tzinfo is None:
        raise InvalidRequest(f"--at {text!r} needs an offset (Z or +hh:mm)", field="at")
    return at


def run(args: argparse.Namespace) -> int:
    from broker.admin.mous.redline import redline, report_lines
    from broker.documents import mou_files
    from broker.documents.loader import read_inventory
    from broker.errors import DocumentError
    from broker.settings import load_settings
    from broker.timeutil import format_instant

    settings = load_settings(for_server=False)
    inventory_path = args.inventory or settings.policy.inventory
    inv, issues, _ = read_inventory(Path(inventory_path))
    if inv is None:
        print("\n".join(DocumentError(issues).lines()))
        return 2
    at = _instant(args.at)
    (old, old_errors, old_raw), (new, new_errors, new_raw) = (_read_mou(p, inv) for p in (args.old, args.new))
    context: list[Mou] = []
    errors = old_errors + new_errors
    for path in mou_files(args.mou):
        doc, more, _ = _read_mou(str(path), inv)
        errors += more
        context += [doc] if doc is not None else []
    if errors or old is None or new is None:
        print("\n".join(errors))
        return 2
    if old.mou != new.mou:
        print(f"{args.new}:1: mou: {new.mou!r} is not the MOU of {args.old} ({old.mou!r})")
        return 2
    model_text = settings.policy.model.read_text(encoding="utf-8")
    report = redline(inv, old, new, model_text, at, context)
    refs = [_ref(doc, raw, path) for doc, raw, path in ((old, old_raw, args.old), (new, new_raw, args.new))]
    if args.json:
        body = {"mou": old.mou, "at": format_instant(at), "from": refs[0], "to": refs[1], **report}
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    print(f"{old.mou}: version {old.version} ({args.old}) -> version {new.version} ({args.new})")
    print("\n".join(report_lines(report)))
    return 0


def _ref(doc: Mou, raw: bytes, path: str) -> dict[str, Any]:
    return {"version": doc.version, "sha256": hashlib.sha256(raw).hexdigest(), "file": path}

"""``camgate inventory sync``: merge each camera system's camera list into the inventory (broker/admin/sync.py).

Prints the change as a unified diff on standard output (review it, or save it) and a summary per system on
standard error. ``--apply`` writes it atomically; ``--reload`` then asks the running broker to serve it (as
``camgate reload``). Exit status: 0 every system asked was listed, 1 some system could not be listed (the others
were merged) or the change could not be written, 2 bad input (an invalid inventory, an unknown system).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any

from broker.admin.sync import InventorySync, SyncOutcome
from broker.inventory.merge import MergeError
from broker.settings import Settings


def add_parser(inventory: Any) -> None:
    s = inventory.add_parser(
        "sync", help="merge each camera system's camera list into the inventory: a diff to review, --apply writes it"
    )
    s.add_argument("--inventory", metavar="PATH", help="the inventory file (default: the settings' policy.inventory)")
    s.add_argument("--apply", action="store_true", help="write the change (atomically); without it, only print it")
    s.add_argument("--system", action="append", metavar="ID", help="only this camera system (repeatable)")
    s.add_argument("--reload", action="store_true", help="after --apply, ask the running broker to reload")
    s.add_argument("--url", help="with --reload: the broker (default: as camgate reload)")
    s.add_argument("--token", help="with --reload: an operator's bearer token (default: $CAMGATE_TOKEN)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from broker.audit import AuditLog
    from broker.clock import SystemClock
    from broker.store import Store
    from broker.store.systems import SystemStatusRepository

    if args.reload and not args.apply:
        print("camgate inventory sync: --reload needs --apply (nothing is written without it)", file=sys.stderr)
        return 2
    path = Path(args.inventory) if args.inventory else settings.policy.inventory
    store = Store.open(settings.database_url, schema=settings.store.schema_)
    try:
        store.create_all()
        clock = SystemClock()
        syncer = InventorySync(
            path, AuditLog(store, clock), SystemStatusRepository(store), clock, settings.inventory_sync.timeout_seconds
        )
        who = {"principal_sub": f"cli:{_user()}"}
        outcome = asyncio.run(syncer.run(apply=args.apply, trigger="cli", systems=args.system, who=who))
    except MergeError as exc:
        print(f"camgate inventory sync: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"camgate inventory sync: cannot write {path}: {exc.strerror or exc}; nothing was changed", file=sys.stderr
        )
        return 1
    finally:
        store.dispose()
    sys.stdout.write(outcome.merged.diff)
    sys.stdout.flush()
    print("\n".join(summary(outcome, path, args.apply)), file=sys.stderr)
    status = 1 if outcome.failed else 0
    if args.reload and outcome.applied:
        from broker.cli.reload import reload

        status = max(status, reload(settings, args.url, args.token))
    return status


def summary(outcome: SyncOutcome, path: Path, apply: bool) -> list[str]:
    lines = []
    for r in outcome.results:
        if r.error is not None:
            lines.append(f"{r.system}: not listed: {r.error}")
        elif not r.discoverable:
            lines.append(f"{r.system}: adapter {r.adapter!r} cannot list its cameras; skipped")
        else:
            ch = outcome.merged.systems[r.system]
            where = f" at {ch.site}" if ch.added else ""
            lines.append(
                f"{r.system}: {ch.discovered} listed, {len(ch.added)} new (unclassified){where}, "
                f"{len(ch.flagged)} newly missing, {len(ch.unflagged)} back, "
                f"{len(ch.still_missing)} still missing"
            )
    lines += outcome.problems
    if not outcome.merged.changed:
        lines.append(f"{path}: no change")
    elif outcome.applied:
        lines.append(f"{path}: written (SHA-256 {outcome.after}); `camgate reload` makes the broker serve it")
    else:
        lines.append(f"{path}: not written: review the diff above, then run again with --apply")
    if not apply and outcome.merged.changed:
        lines.append("new cameras stay unclassified (never shared) until school IT gives them a zone")
    return lines


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"

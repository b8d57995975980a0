"""``camgate`` console script: documents, decisions, tokens, audit, and the server.

Exit status: 0 success, 1 a check failed (e.g. ``audit verify`` found tampering), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="camgate", description="Access-control broker for shared camera feeds.")
    p.add_argument("--config", help="TOML settings file (also CAMGATE_CONFIG)")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    mou = sub.add_parser("mou", help="MOU documents").add_subparsers(dest="sub", required=True, metavar="SUB")
    mv = mou.add_parser("validate", help="validate MOU files or directories")
    mv.add_argument("files", nargs="+", metavar="FILE")
    mv.add_argument("--inventory", help="check agency and site references against this inventory")
    mi = mou.add_parser("import", help="store MOU files as in-force versions (mous.source = store)")
    mi.add_argument("files", nargs="+", metavar="DIR|FILE")
    from broker.cli.moudiff import add_parser as add_mou_diff

    add_mou_diff(mou)

    inv = sub.add_parser("inventory", help="inventory documents").add_subparsers(
        dest="sub", required=True, metavar="SUB"
    )
    iv = inv.add_parser("validate", help="validate an inventory file")
    iv.add_argument("files", nargs="+", metavar="FILE")
    iv.add_argument("--mou", action="append", help="also warn of camera zones these MOUs do not define (repeatable)")
    from broker.cli.sync import add_parser as add_sync

    add_sync(inv)

    d = sub.add_parser("decide", help="batch decisions over JSON Lines (contract section 5)")
    d.add_argument("--inventory", required=True)
    d.add_argument("--mou", action="append", required=True, help="MOU file or directory (repeatable)")
    d.add_argument("--requests", help="JSON Lines file (default: standard input)")
    d.add_argument("--roster", help="JSON file: MOU id -> roster entries in force (contract section 5)")

    t = sub.add_parser("token", help="mint a token from the built-in dev issuer (dev mode only)")
    t.add_argument("--sub", required=True)
    t.add_argument("--agency", required=True)
    t.add_argument("--roles", required=True, help="comma-separated roles")
    t.add_argument("--ttl-minutes", type=int, default=None)

    a = sub.add_parser("audit", help="the audit log").add_subparsers(dest="sub", required=True, metavar="SUB")
    from broker.cli.audit_cmds import add_parsers as add_audit

    add_audit(a)
    from broker.cli.witness import add_parser as add_witness

    add_witness(a)

    r = sub.add_parser("reload", help="ask the running broker to re-read the inventory and MOUs")
    r.add_argument(
        "--url", help="the broker (default: the demo running on the data dir, else http://<server.host>:<server.port>)"
    )
    r.add_argument("--token", help="an operator's bearer token (default: $CAMGATE_TOKEN; minted in dev mode)")

    from broker.cli.trigger import add_parser

    add_parser(sub)

    s = sub.add_parser("serve", help="run the broker")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)

    dm = sub.add_parser("demo", help="run the broker with the simulated New Canaan district (dev mode)")
    dm.add_argument("--port", type=int, default=None)
    dm.add_argument(
        "--site-recording",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="watching a camera, or an emergency, keeps its whole site recording this long (0: only what is watched)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `camgate decide ... | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "mou" and args.sub == "validate":
        from broker.cli.validate import mou_validate

        return mou_validate(args.files, args.inventory)
    if args.cmd == "mou" and args.sub == "diff":
        from broker.cli.moudiff import main as mou_diff

        return mou_diff(args)
    if args.cmd == "inventory" and args.sub == "validate":
        from broker.cli.validate import inventory_validate

        return inventory_validate(args.files, args.mou)
    if args.cmd == "audit" and args.sub == "witness":  # a witness's own tool: no broker settings
        from broker.cli.witness import run as run_witness

        return run_witness(args)
    if args.cmd == "decide":
        from broker.cli.decide import run

        return run(args.inventory, args.mou, args.requests, roster=args.roster)
    from broker.cli import server_cmds

    return server_cmds.dispatch(args)


if __name__ == "__main__":
    sys.exit(main())

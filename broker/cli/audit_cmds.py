"""``camgate audit ...``: keygen, verify (the store, or an export offline), export, checkpoint, prune.

Exit status: 0 ok, 1 the log was tampered with (verify) or the check failed, 2 bad input or no such store.
``keygen`` and ``verify DIR`` read no settings: they run on an auditor's machine with no broker.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parsers(audit: Any) -> None:
    """The subcommands of ``camgate audit`` (``audit`` is its subparsers object)."""
    v = audit.add_parser(
        "verify",
        help="verify the audit chain, its signed checkpoints and the local witness; or an export (DIR) offline",
    )
    v.add_argument("export", nargs="?", metavar="DIR", help="an export (camgate audit export): verify it offline")
    v.add_argument("--witness", metavar="DIR", help="checkpoints a witness kept (one JSON file each): all must hold")
    v.add_argument("--json", action="store_true", help="print the result as one JSON object (for machines)")
    k = audit.add_parser("keygen", help="write a new checkpoint signing key (Ed25519, PEM, mode 0600)")
    k.add_argument("--out", required=True, metavar="FILE", help="the new key file (never overwritten)")


def run(args: argparse.Namespace) -> int:
    if args.sub == "keygen":
        return keygen(Path(args.out))
    if args.sub == "verify":
        from broker.cli.server_cmds import audit_verify
        from broker.settings import load_settings

        return audit_verify(load_settings())
    raise AssertionError(args.sub)


def keygen(out: Path) -> int:
    from broker.audit.checkpoints import key_id, public_key_text
    from broker.audit.keys import write_key_file

    try:
        private = write_key_file(out)
    except FileExistsError:
        print(f"camgate: {out} exists; a key file is never overwritten", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"camgate: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    public = private.public_key()
    print(json.dumps({"key_file": str(out.resolve()), "key_id": key_id(public), "public_key": public_key_text(public)}))
    return 0

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

from broker.text import count


def add_parsers(audit: Any) -> None:
    """The subcommands of ``camgate audit`` (``audit`` is its subparsers object)."""
    v = audit.add_parser(
        "verify",
        help="verify the audit chain, its signed checkpoints and the local witness; or an export (DIR) offline",
    )
    v.add_argument("export", nargs="?", metavar="DIR", help="an export (camgate audit export): verify it offline")
    v.add_argument("--witness", metavar="DIR", help="checkpoints a witness kept (one JSON file each): all must hold")
    v.add_argument("--json", action="store_true", help="print the result as one JSON object (for machines)")
    v.add_argument("--keys", metavar="FILE", help="trust these public keys (keys.json) instead of the export's own")
    e = audit.add_parser("export", help="write records, checkpoints and public keys to DIR for offline verification")
    e.add_argument("--from", dest="start", metavar="SEQ|TIME", help="first record (seq, or RFC 3339: ts >= TIME)")
    e.add_argument("--to", dest="end", metavar="SEQ|TIME", help="last record (seq, or RFC 3339: ts < TIME)")
    e.add_argument("--out", required=True, metavar="DIR", help="a new or empty directory")
    p = audit.add_parser("prune", help="delete records older than audit.retention_days through a signed prune")
    p.add_argument("--dry-run", action="store_true", help="say what would be pruned, change nothing")
    k = audit.add_parser("keygen", help="write a new checkpoint signing key (Ed25519, PEM, mode 0600)")
    k.add_argument("--out", required=True, metavar="FILE", help="the new key file (never overwritten)")


def run(args: argparse.Namespace) -> int:
    if args.sub == "keygen":
        return keygen(Path(args.out))
    if args.sub == "verify":
        return verify_export(args) if args.export else verify_store(args)
    if args.sub == "export":
        return export(args)
    if args.sub == "prune":
        return prune(args)
    raise AssertionError(args.sub)


def _keyring(settings: Any) -> Any:
    from broker.audit.keys import load_keyring

    cps = settings.audit.checkpoints
    return load_keyring(
        cps.key_file, cps.old_keys, cps.witness_file, settings.data_dir, dev=settings.mode == "dev", create=False
    )


def verify_export(args: argparse.Namespace) -> int:
    """An export, offline (no settings, no store): 0 ok, 1 tampered, 2 not an export."""
    from broker.audit.offline import ExportError
    from broker.audit.offline import verify_export as verify

    try:
        result = verify(
            Path(args.export),
            witness_dir=Path(args.witness) if args.witness else None,
            keys_file=Path(args.keys) if args.keys else None,
        )
    except ExportError as exc:
        print(f"camgate: {exc}", file=sys.stderr)
        return 2
    return report(result.to_dict(), as_json=args.json)


def export(args: argparse.Namespace) -> int:
    from broker.audit.export import export as write
    from broker.audit.export import parse_bound
    from broker.audit.verify_store import open_existing
    from broker.clock import SystemClock
    from broker.settings import load_settings

    start, end = parse_bound(args.start, "from"), parse_bound(args.end, "to")
    settings = load_settings(for_server=False)  # reads the store: none of a server's secrets needed
    keys = _keyring(settings)
    store = open_existing(settings.database_url, settings.store.schema_)
    try:
        done = write(store, keys, Path(args.out), start=start, end=end, now=SystemClock().now())
    finally:
        store.dispose()
    span = f"records {done.first_seq}-{done.last_seq}" if done.records else "no records"
    print(f"exported {span} ({done.records}) and {done.checkpoints} checkpoints to {done.directory}")
    return 0


def verify_store(args: argparse.Namespace) -> int:
    """The configured store: refuse one that does not exist (exit 2, nothing created); 0 ok, 1 tampered."""
    from broker.audit.bindings import bindings_report, with_bindings
    from broker.audit.verify_store import StoreVerifier, open_existing
    from broker.settings import load_settings

    if args.witness or args.keys:
        print(
            "camgate: --witness and --keys go with an export: camgate audit verify DIR --witness DIR", file=sys.stderr
        )
        return 2
    settings = load_settings(for_server=False)  # reads the store: none of a server's secrets needed
    keys = _keyring(settings)
    store = open_existing(settings.database_url, settings.store.schema_)
    try:
        result = with_bindings(StoreVerifier(store, keys).verify().to_dict(), bindings_report(store))
    finally:
        store.dispose()
    return report(result, as_json=args.json)


def report(result: dict[str, Any], *, as_json: bool) -> int:
    """Print a verification result (one JSON object with ``--json``, else lines for people); 0 ok, 1 tampered."""
    if as_json:
        print(json.dumps(result))
        return 0 if result["ok"] else 1
    signed, witnessed = result.get("checkpoints", 0), result.get("witnessed", 0)
    held = f"{count(signed, 'signed checkpoint')} and {count(witnessed, 'witnessed one')} held"
    base = f", from the prune base at record {result['base_seq']}" if result.get("base_seq") else ""
    span = f"{result['records']} records{base}"
    first = (result.get("export") or {}).get("first_seq")
    if isinstance(first, int) and first - 1 > result.get("base_seq", 0):  # a part of the log, not a prune base
        span = f"records {first}-{result['records']} only (the export starts there; those before are not checked)"
    if result["ok"]:
        print(f"ok: {span}, head {result['head']}; {held}")
    elif result.get("chain_ok", result["ok"]) is False:
        first = result.get("first_bad")
        print(f"TAMPERED: first bad record {first}" if first is not None else "TAMPERED: a checkpoint is at fault")
        print(f"  {result['problem']}")
        print(f"  records up to {result['records']}{base} form a good chain (head {result['head']}); {held}")
        for other in result.get("problems", [])[1:]:
            print(f"  also: {other}")
    else:
        print(f"TAMPERED: rows disagree with the chain ({result['records']} records{base} verify; {held})")
    for bad in result.get("bindings", []):
        where = f" (record {bad['seq']})" if bad.get("seq") is not None else ""
        print(f"  {bad['table']} {bad['row']}: {bad['field']}: {bad['problem']}{where}")
    for note in result.get("notes", []):
        print(f"  note: {note}")
    return 0 if result["ok"] else 1


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


def prune(args: argparse.Namespace) -> int:
    """Operators: prune now (as housekeeping does daily). 0 done or nothing due, 1 refused (the log does not
    verify), 2 no retention configured or no store."""
    from broker.audit.log import AuditLog
    from broker.audit.retention import Retention
    from broker.audit.signer import CheckpointSigner
    from broker.audit.verify_store import StoreVerifier, open_existing
    from broker.clock import SystemClock
    from broker.errors import AuditTampered
    from broker.settings import load_settings

    settings = load_settings(for_server=False)  # the signing key only (the key ring checks it)
    if settings.audit.retention_days is None:
        print("camgate: audit.retention_days is not set: every record is kept, nothing is pruned", file=sys.stderr)
        return 2
    keys = _keyring(settings)
    if keys.signing is None:
        print("camgate: no checkpoint signing key: a prune must be signed", file=sys.stderr)
        return 2
    store = open_existing(settings.database_url, settings.store.schema_)
    clock = SystemClock()
    timeout = settings.audit.write_timeout_seconds
    try:
        signer = CheckpointSigner(store, keys.signing, clock, witness_file=keys.witness_file, lock_timeout=timeout)
        retention = Retention(
            store,
            AuditLog(store, clock, write_timeout=timeout),
            signer,
            StoreVerifier(store, keys),
            clock,
            settings.audit.retention_days,
            lock_timeout=timeout,
            who="camgate:audit-prune",
        )
        outcome = retention.prune(dry_run=args.dry_run)
    except AuditTampered as exc:
        print(f"camgate: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    assert outcome is not None
    print(json.dumps(outcome.to_dict() | {"dry_run": args.dry_run}))
    return 0

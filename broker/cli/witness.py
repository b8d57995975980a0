"""``camgate audit witness``: a witness's own receiver of the broker's signed checkpoints; no broker access.

``camgate audit witness --dir DIR --secret-file F [--host 127.0.0.1 --port N]`` listens for the ``audit.checkpoint``
notices the broker's outbox sends (``audit.witnesses`` in its settings). Each POST must carry a valid Standard
Webhooks signature made with the secret in F (``whsec_...``, the one configured for this witness at the broker):
401 and nothing stored otherwise. The checkpoint in ``data`` is parsed (400 naming the bad field), its Ed25519
signature checked when the public key comes along (or was kept before), and stored by
:class:`~broker.audit.witness.WitnessDir`, flagged if it does not extend what the witness holds (200 either way:
a flagged checkpoint is evidence, and must not be sent again and again).

``camgate audit witness check --dir DIR`` prints what DIR holds (JSON): the count, the latest records and head,
the keys, and every flag; exit 1 if there is a flag.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from broker.audit.bindings import CHECKPOINT_NOTICE
from broker.audit.checkpoints import Checkpoint, CheckpointError
from broker.audit.witness import WitnessDir
from broker.clock import Clock, SystemClock
from broker.errors import SignatureError
from broker.identity.webhooks import verify
from broker.notify.config import check_secret

log = logging.getLogger("camgate.witness")
MAX_BODY = 64 * 1024  # a checkpoint notice is under 1 KiB
DEFAULT_PORT = 8790
_FIELD = re.compile(r"^([a-z_][a-z_.]*): ")


def add_parser(audit: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = audit.add_parser("witness", help="receive and keep the broker's signed checkpoints (a witness's tool)")
    w.add_argument("action", nargs="?", choices=["check"], help="check: print what DIR holds and any flag")
    w.add_argument("--dir", required=True, type=Path, help="where the checkpoints are kept")
    w.add_argument("--secret-file", type=Path, help="file holding this witness's whsec_ secret (to receive)")
    w.add_argument("--host", default="127.0.0.1")
    w.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: any free port")


def run(args: argparse.Namespace) -> int:
    directory = args.dir.expanduser().resolve()
    if args.action == "check":
        if not directory.is_dir():
            print(f"camgate: --dir {directory} is not a directory", file=sys.stderr)
            return 2
        report = WitnessDir(directory, create=False).report()
        print(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    try:
        secret = read_secret(args.secret_file)
    except ValueError as exc:
        print(f"camgate: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = make_server(WitnessDir(directory), secret, args.host, args.port, SystemClock())
    host, port = args.host, server.server_address[1]
    print(
        f"camgate audit witness: keeping checkpoints in {directory}; listening on http://{host}:{port}/",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def read_secret(path: Path | None) -> str:
    if path is None:
        raise ValueError("--secret-file is required to receive checkpoints")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"--secret-file: cannot read {path} ({exc.strerror})") from None
    return check_secret(text, "--secret-file")


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status, self.body = status, body


def _bad(message: str, field: str | None = None) -> Refused:
    match = _FIELD.match(message)
    return Refused(
        400,
        {"error": "invalid_checkpoint", "field": field or (match.group(1) if match else "data"), "message": message},
    )


def handle(witness: WitnessDir, secret: str, headers: dict[str, str], body: bytes, clock: Clock) -> dict[str, Any]:
    """One delivery: 200's body, or :class:`Refused` with the status and body to answer."""
    now = clock.now()
    try:  # Standard Webhooks, "Verifying webhooks": the signature and a timestamp within 5 minutes
        verify("broker", [secret], headers, body, now)
    except SignatureError as exc:
        raise Refused(401, {"error": exc.code, "reason": exc.details.get("reason"), "message": exc.message}) from None
    try:
        notice = json.loads(body)
    except ValueError as exc:
        raise _bad(f"the body is not JSON ({exc})", "body") from None
    if not isinstance(notice, dict):
        raise _bad("the body is not a JSON object", "body")
    if notice.get("type") != CHECKPOINT_NOTICE:
        raise _bad(f"type: must be {CHECKPOINT_NOTICE!r}, not {notice.get('type')!r}")
    data = notice.get("data")
    if not isinstance(data, dict):
        raise _bad("data: must be a JSON object (the checkpoint)")
    public_key = data.get("public_key")
    if public_key is not None and not isinstance(public_key, str):
        raise _bad("data.public_key: must be a string")
    try:
        cp = Checkpoint.from_dict(data)
    except CheckpointError as exc:
        raise _bad(f"data.{exc}") from None
    try:
        receipt = witness.receive(cp, now, public_key)
    except CheckpointError as exc:
        raise _bad(str(exc)) from None
    flagged = ", ".join(f.code for f in receipt.flags) or "none"
    log.info(
        "checkpoint %s records %d: %s; flags: %s", cp.id[:12], cp.records, receipt.stored or "already held", flagged
    )
    return receipt.to_dict()


def make_server(witness: WitnessDir, secret: str, host: str, port: int, clock: Clock) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "camgate-witness/0.1"

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._answer(411, {"error": "length_required", "message": "Content-Length is required"})
                return
            if not 0 <= length <= MAX_BODY:
                self._answer(413, {"error": "too_large", "message": f"a checkpoint notice is at most {MAX_BODY} bytes"})
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                self._answer(200, handle(witness, secret, headers, body, clock))
            except Refused as exc:
                self._answer(exc.status, exc.body)

        def do_GET(self) -> None:
            self._answer(405, {"error": "method_not_allowed", "message": "POST checkpoint notices here"})

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per receipt is logged by handle()

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server

"""``camgate trigger send``: sign and post an event exactly as a panic button or an officer's alert would.

The secret is the source's configured one (``triggers.sources.<id>.secrets``; in dev mode the demo's, kept in
the data dir), the signature Standard Webhooks' (``broker/identity/webhooks.py``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

import httpx

from broker.cli.target import resolve
from broker.clock import SystemClock
from broker.errors import ConfigError
from broker.identity.webhooks import sign
from broker.settings import PLACEHOLDER, Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser("trigger", help="signed trigger events").add_subparsers(dest="sub", required=True, metavar="SUB")
    s = t.add_parser("send", help="sign and post an event as the source's device would")
    s.add_argument("source", metavar="SOURCE", help="the source id (settings triggers.sources)")
    s.add_argument("--device", required=True)
    s.add_argument("--event", required=True, help="event type, e.g. panic.pressed, officer.alert, panic.cleared")
    s.add_argument("--lat", type=float)
    s.add_argument("--lon", type=float)
    s.add_argument("--notes")
    s.add_argument("--incident")
    s.add_argument("--minutes", type=int, help="extend events: minutes to add")
    s.add_argument("--id", help="webhook-id (default: a new random one; reuse one to redeliver)")
    s.add_argument(
        "--url", help="the broker (default: the demo running on the data dir, else http://<server.host>:<server.port>)"
    )


def send(settings: Settings, args: argparse.Namespace) -> int:
    keys = settings.webhook_secrets(args.source)
    if not keys:
        raise ConfigError(f"unknown source {args.source!r}: not in settings triggers.sources")
    if PLACEHOLDER in keys[0]:  # outside dev mode (dev mode keeps a real secret in the data dir)
        raise ConfigError(
            f"triggers.sources.{args.source}: its secret is a placeholder; set a whsec_ secret, or "
            "CAMGATE_MODE=dev for the demo's sources"
        )
    if (args.lat is None) != (args.lon is None):
        raise ConfigError("--lat and --lon go together")
    data: dict[str, object] = {"device": args.device}
    if args.lat is not None:
        data["location"] = {"lat": args.lat, "lon": args.lon}
    for key in ("notes", "incident", "minutes"):
        if getattr(args, key) is not None:
            data[key] = getattr(args, key)
    now = SystemClock().now()
    body = json.dumps({"type": args.event, "timestamp": now.isoformat(), "data": data}).encode()
    headers = sign(keys[0], args.id or f"msg_{secrets.token_hex(12)}", now, body)
    target = resolve(settings, args.url)
    target.announce("trigger send")
    url = target.url
    try:
        r = httpx.post(
            f"{url}/api/v1/triggers/{args.source}",
            content=body,
            timeout=30,
            headers=headers | {"content-type": "application/json"},
        )
    except httpx.HTTPError as exc:
        print(f"camgate: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text))
    return 0 if r.is_success else 1

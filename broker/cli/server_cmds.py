"""Console commands that need the settings root: token, audit verify, inventory sync, reload, serve, demo."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from broker.errors import CamgateError, ConfigError, DocumentError
from broker.settings import Settings, load_settings


def dispatch(args: argparse.Namespace) -> int:
    if args.config:
        os.environ["CAMGATE_CONFIG"] = args.config
    try:
        if args.cmd == "token":
            return token(load_settings(for_server=False), args)  # dev mode only, which it says
        if args.cmd == "audit":
            from broker.cli import audit_cmds

            return audit_cmds.run(args)
        if args.cmd == "mou" and args.sub == "import":
            from broker.cli.mouimport import run as mou_import

            return mou_import(load_settings(for_server=False), args.files)
        if args.cmd == "inventory":
            from broker.cli.sync import run

            return run(load_settings(), args)
        if args.cmd == "reload":
            from broker.cli.reload import reload

            return reload(load_settings(for_server=False), args.url, args.token)  # a client: no server secrets
        if args.cmd == "trigger":
            from broker.cli.trigger import send

            return send(load_settings(for_server=False), args)  # signs with its source's secret only
        if args.cmd == "serve":
            return serve(load_settings(), args.host, args.port)
        if args.cmd == "demo":
            from broker.demo.run import run_demo

            return run_demo(args.port, site_recording=args.site_recording)
    except DocumentError as exc:  # inventory or MOU refused (start-up, mou import): every FILE:LINE: path: message
        print("\n".join(exc.lines()), file=sys.stderr)
        return 2
    except CamgateError as exc:
        print(f"camgate: {exc.message}", file=sys.stderr)
        return 2
    raise AssertionError(args.cmd)


def token(settings: Settings, args: argparse.Namespace) -> int:
    """Mint a token from the built-in dev issuer. Refused outside dev mode: it would sign anything."""
    if settings.mode != "dev" or settings.identity.dev_issuer is None:
        raise ConfigError("camgate token works in dev mode only (CAMGATE_MODE=dev); use your identity provider")
    from broker.clock import SystemClock
    from broker.identity import DevIssuer

    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    if not roles:
        raise ConfigError("--roles needs at least one role")
    issuer = DevIssuer.load_or_create(settings.data_dir, settings.identity.dev_issuer)
    ttl = timedelta(minutes=args.ttl_minutes) if args.ttl_minutes else None
    print(issuer.mint(args.sub, args.agency, roles, now=SystemClock().now(), ttl=ttl))
    return 0


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    from broker.api import create_app
    from broker.api.serving import run
    from broker.logs import configure, uvicorn_log_config

    configure()
    app = create_app(settings)
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 and rewrite the peer, bypassing
    # server.trusted_proxies (broker.api.client decides which proxies to believe for the audit's client)
    return run(  # event streams end when the stop begins (broker.api.serving)
        app,
        host=host or settings.server.host,
        port=port or settings.server.port,
        log_level="info",
        log_config=uvicorn_log_config(),  # every line redacted (broker.logs)
        access_log=settings.server.access_log,
        proxy_headers=False,
    )

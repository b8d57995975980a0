"""``camgate reload``: ask the running broker to re-read its documents (``POST /api/v1/admin/reload``).

The broker validates every document first; a refused reload changes nothing and its errors are printed
like ``camgate mou validate`` prints them, ``FILE:LINE: path.to.field: message``, one a line, exit status 2.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import httpx

from broker.cli.target import resolve
from broker.settings import Settings

TIMEOUT_SECONDS = 120.0  # a reload of a regional center's documents takes about a second; leave room


def _token(settings: Settings, given: str | None) -> str | None:
    token = given or os.environ.get("CAMGATE_TOKEN")
    if token or settings.mode != "dev" or settings.identity.dev_issuer is None:
        return token
    from broker.clock import SystemClock
    from broker.identity import DevIssuer

    # Dev mode only: an operator token from the built-in issuer, as `camgate token` would mint it.
    agencies = settings.admin.operator_agencies or ["local"]
    issuer = DevIssuer.load_or_create(settings.data_dir, settings.identity.dev_issuer)
    return issuer.mint("camgate-reload", agencies[0], settings.admin.operator_roles[:1], now=SystemClock().now())


def reload(settings: Settings, url: str | None, token: str | None) -> int:
    target = resolve(settings, url)
    target.announce("reload")
    base = target.url
    bearer = _token(settings, token)
    if not bearer:
        print("camgate reload: no token: pass --token or set CAMGATE_TOKEN (an operator's)", file=sys.stderr)
        return 2
    try:
        r = httpx.post(
            f"{base}/api/v1/admin/reload", headers={"Authorization": f"Bearer {bearer}"}, timeout=TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        print(f"camgate reload: no answer from {base}: {exc}", file=sys.stderr)
        return 1
    body: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        body = r.json()
    if r.status_code == 200:
        print(
            f"applied: generation {body['generation']}, {body['cameras']} cameras, {body['mous']} MOUs, "
            f"{body['policy_lines']} policy lines, {body['seconds']} s"
        )
        for warning in body.get("warnings", []):  # applied all the same: an MOU out of force, an unknown zone
            print(warning, file=sys.stderr)
        return 0
    if r.status_code == 422 and body.get("error") == "invalid_document":
        print("\n".join(body.get("lines", [])))
        print("refused: the running policy is unchanged", file=sys.stderr)
        return 2
    print(
        f"camgate reload: {r.status_code} {body.get('error', '')}: {body.get('message', r.text[:200])}", file=sys.stderr
    )
    return 2 if r.status_code < 500 else 1

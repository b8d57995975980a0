"""The few server-rendered pages around the console (the issuer picker, the demo personas) in the console's
shell: ``lang`` for screen readers (WCAG 3.1.1), a viewport for tablets, a ``<main>`` landmark, and the console's
own stylesheet, so they are as dark, large-targeted and focus-visible as the console itself."""

from __future__ import annotations

import html

STYLESHEET = "/console/css/console.css"
ICON = "/console/icon.svg"  # named, so the browser never asks /favicon.ico (a 404 in every console's log)


def html_page(title: str, body: str) -> str:
    """A whole document: ``title`` is plain text (escaped here), ``body`` is markup the caller escaped."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="{STYLESHEET}">'
        f'<link rel="icon" href="{ICON}" type="image/svg+xml"></head>'
        f'<body><main id="main" class="signin-page">{body}</main></body></html>'
    )

"""The web console: static HTML, CSS and ES modules served under ``/console/``.

The files hold no data: every page reads the authenticated API (the session cookie, or a bearer token in
development). Third-party files (hls.js) are installed from npm into ``static/vendor/`` by the Makefile.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"

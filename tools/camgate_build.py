"""camgate's PEP 517 build backend: setuptools, refusing to build a wheel without the console's hls.js.

The web console serves hls.js from ``broker/console/static/vendor/hls.mjs``, installed from npm (``make console``:
``npm ci`` in ``broker/console``, then hls.js's ``dist/hls.min.mjs`` copied there; the Dockerfile's node stage does
the same). The file is git-ignored, so a wheel built from a fresh clone without that step would hold a console that
never leaves "Loading…" (issue 13 item 22): such a build fails here, saying what to run. Editable installs (the
Makefile's first step, before ``make console``) read the files in place and are not checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (the rest of the PEP 517 / PEP 660 interface, as setuptools has it)
    build_editable,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

VENDORED = Path("broker/console/static/vendor/hls.mjs")  # relative to the source tree, the build's working folder


class ConsoleNotBuilt(RuntimeError):
    pass


def require_console(root: Path | None = None) -> Path:
    """The vendored hls.js, or :class:`ConsoleNotBuilt` saying how to make it."""
    path = (root or Path.cwd()) / VENDORED
    if not path.is_file() or path.stat().st_size == 0:
        raise ConsoleNotBuilt(
            f"{VENDORED} is missing: the web console needs hls.js from npm. Run `make console` (npm ci in "
            "broker/console, then cp node_modules/hls.js/dist/hls.min.mjs to static/vendor/hls.mjs) and build again"
        )
    return path


def build_wheel(
    wheel_directory: str, config_settings: dict[str, Any] | None = None, metadata_directory: str | None = None
) -> str:
    require_console()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    require_console()  # a wheel built from the sdist needs it too
    return str(_setuptools.build_sdist(sdist_directory, config_settings))

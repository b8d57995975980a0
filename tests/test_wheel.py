"""Issue 13 item 22: the package built from a clean clone holds the web console, hls.js included.

The container image installs the wheel (Dockerfile), and no container engine runs here, so the wheel is what is
tested: ``git clone`` of this repository's HEAD, a build that must fail without the console's npm step
(tools/camgate_build.py), ``make console`` from the local npm cache (``make test`` has filled it), and a build
whose wheel holds every console file, hls.js and the LICENSE. No network: pip builds with ``--no-index`` and
``--no-build-isolation`` (setuptools from the dev extra), npm runs offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.paths import REPO

CONSOLE = "broker/console"
VENDORED = f"{CONSOLE}/static/vendor/hls.mjs"


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=os.environ | env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )


def build_wheel(clone: Path, out: Path) -> subprocess.CompletedProcess[str]:
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    return run([*pip, "-w", str(out), str(clone)], clone)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("git") and shutil.which("npm") and shutil.which("make"), (
        "git, npm and make (make test has them)"
    )
    major = int(version("setuptools").split(".")[0])
    assert major >= 77, f"setuptools {version('setuptools')}: make test installs the dev extra's (pyproject.toml)"
    target = tmp_path_factory.mktemp("wheel") / "camgate"
    cloned = run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], REPO)
    assert cloned.returncode == 0, cloned.stderr
    assert not (target / VENDORED).exists()  # git-ignored: a clean clone has no hls.js
    return target


def test_a_wheel_without_the_console_step_is_refused_saying_what_to_run(clone: Path, tmp_path: Path) -> None:
    built = build_wheel(clone, tmp_path)
    assert built.returncode != 0 and not list(tmp_path.glob("*.whl"))
    assert f"{VENDORED} is missing" in built.stdout + built.stderr and "make console" in built.stdout + built.stderr


def test_a_wheel_from_a_clean_clone_holds_the_console_hls_js_and_the_license(clone: Path, tmp_path: Path) -> None:
    console = run(["make", "console"], clone, npm_config_offline="true")  # the npm cache only: no network
    assert console.returncode == 0, console.stdout + console.stderr
    built = build_wheel(clone, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("camgate-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        tracked = run(["git", "ls-files", f"{CONSOLE}/static"], clone).stdout.split()
        assert tracked and set(tracked) <= names, set(tracked) - names  # every page, script and style sheet
        hls = (clone / CONSOLE / "node_modules/hls.js/dist/hls.min.mjs").read_bytes()
        assert zf.read(VENDORED) == hls and b"Hls" in hls
        (license_name,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert zf.read(license_name) == (REPO / "LICENSE").read_bytes()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert (
        b"Apache License" in (REPO / "LICENSE").read_bytes()
        and b"Version 2.0, January 2004" in (REPO / "LICENSE").read_bytes()
    )

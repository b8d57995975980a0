"""``camgate demo`` as a new user meets it (broker/demo/run.py, broker/demo/ports.py): ``make demo`` on a fresh clone
made ``.camgate`` 0755 (the simulated VMS's ``mkdir(parents=True)`` came first; the demo's own ``/readyz`` then
warned "open to other users"); a port held by another program (another demo on 9000, the broker's port) was
either a bare "Address already in use" for the first one, or a banner saying "running" before uvicorn failed to
bind. Now the data folder is 0700 from the start and every busy port is named before anything starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.demo.run import run_demo, try_it
from broker.errors import ConfigError
from broker.settings import REPO
from tests.api.broker_process import free_port


@pytest.fixture
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder as `make demo` runs in: the default (relative) data folder, a umask of 022."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("CAMGATE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    before, umask = signal.getsignal(signal.SIGTERM), os.umask(0o022)
    try:
        yield tmp_path
    finally:
        os.umask(umask)
        signal.signal(signal.SIGTERM, before)  # run_demo exits on SIGTERM; not this test process


def inventory_with(directory: Path, system: str, port: int) -> Path:
    """config/inventory.yaml with ``system`` on 127.0.0.1:``port``, every other local port free."""
    text = (REPO / "config" / "inventory.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(http|rtsp)://127\.0\.0\.1:\d+/", lambda m: f"{m.group(1)}://127.0.0.1:{free_port()}/", text)
    text = re.sub(rf"(id: {system},.*?(?:http|rtsp)://127\.0\.0\.1:)\d+/", rf"\g<1>{port}/", text)
    assert f"127.0.0.1:{port}/" in text
    path = directory / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def held() -> socket.socket:
    """A port another program listens on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_a_busy_vms_port_is_named_with_the_fix(
    fresh_clone: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with held() as other:
        port = other.getsockname()[1]
        inventory = inventory_with(fresh_clone, "ncps-vms", port)
        monkeypatch.setenv("CAMGATE_POLICY__INVENTORY", str(inventory))
        with pytest.raises(ConfigError) as refused:
            run_demo(free_port(), site_recording=0)
    message = str(refused.value)
    assert f"127.0.0.1:{port}: the simulated VMS of system 'ncps-vms'" in message, message
    assert "CAMGATE_POLICY__INVENTORY=" in message and str(inventory) in message, message
    assert "is running" not in capsys.readouterr().out  # no banner for a demo that is not running
    assert "CAMGATE_MOUS__SOURCE" not in os.environ  # the demo's store mode must not outlive it in this process


def test_the_data_folder_is_private_before_the_simulated_systems_fill_it(
    fresh_clone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RTSP cameras' port busy: the VMSes started before it used to make ``.camgate`` 0755 (umask 022)."""
    with held() as other:
        port = other.getsockname()[1]
        monkeypatch.setenv("CAMGATE_POLICY__INVENTORY", str(inventory_with(fresh_clone, "ncps-cams", port)))
        with pytest.raises(ConfigError) as refused:
            run_demo(free_port(), site_recording=0)
    assert f"127.0.0.1:{port}: the RTSP cameras of system 'ncps-cams'" in str(refused.value)
    data = fresh_clone / ".camgate"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700  # README "Files": created 0700, whatever the umask


def test_a_busy_broker_port_is_refused_before_the_banner(
    fresh_clone: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAMGATE_POLICY__INVENTORY", str(inventory_with(fresh_clone, "ncps-vms", free_port())))
    with held() as other:
        port = other.getsockname()[1]
        with pytest.raises(ConfigError) as refused:
            run_demo(port, site_recording=0)
    assert f"127.0.0.1:{port}: the broker" in str(refused.value) and "PORT=" in str(refused.value)
    assert "is running" not in capsys.readouterr().out


def test_the_banner_exports_the_inventory_the_demo_serves(fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The busy-port advice moves the cameras with CAMGATE_POLICY__INVENTORY; the banner's commands (camgate
    inventory sync, decide) must then read that inventory too, from any directory."""
    monkeypatch.setenv("CAMGATE_POLICY__INVENTORY", "moved/inventory.yaml")
    (export, *_) = try_it("http://127.0.0.1:8081", Path(".camgate"))
    assert f"CAMGATE_POLICY__INVENTORY={fresh_clone / 'moved' / 'inventory.yaml'}" in export, export
    assert f"CAMGATE_DATA_DIR={fresh_clone / '.camgate'}" in export


def test_the_banner_exports_where_the_demo_keeps_its_mous(fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo keeps its MOUs in the store: camgate mou import (and diff, decide) in the banner's shell must say so
    too, not note that "the broker enforces policy.mous"."""
    (export, *_) = try_it("http://127.0.0.1:8081", Path(".camgate"))
    assert "CAMGATE_MOUS__SOURCE=store" in export, export
    (export, *_) = try_it("http://127.0.0.1:8081", Path(".camgate"), "files")  # CAMGATE_MOUS__SOURCE=files given
    assert "CAMGATE_MOUS__SOURCE=files" in export, export

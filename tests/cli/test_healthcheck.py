"""Issue 13 item 22: the container's health check asks the port the broker is configured with, not 8080."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from broker.cli.healthcheck import main, readyz_url
from broker.settings import load_settings


class Readyz(BaseHTTPRequestHandler):
    status = 200
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Readyz.seen.append(self.path)
        self.send_response(Readyz.status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Readyz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv("CAMGATE_CONFIG", raising=False)
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAMGATE_SERVER__HOST", "0.0.0.0")
    monkeypatch.setenv("CAMGATE_SERVER__PORT", str(server.server_address[1]))
    Readyz.status, Readyz.seen = 200, []
    yield server
    server.shutdown()
    server.server_close()


def test_the_configured_port_is_checked(broker: ThreadingHTTPServer) -> None:
    assert main() == 0 and Readyz.seen == ["/readyz"]
    Readyz.status = 503  # not ready (e.g. the audit log cannot take records)
    assert main() == 1


def test_the_port_from_the_config_file_is_checked(broker: ThreadingHTTPServer, monkeypatch, tmp_path) -> None:
    port = broker.server_address[1]
    monkeypatch.delenv("CAMGATE_SERVER__PORT")
    config = tmp_path / "camgate.toml"
    config.write_text(f'[server]\nhost = "0.0.0.0"\nport = {port}\n')
    monkeypatch.setenv("CAMGATE_CONFIG", str(config))
    assert main() == 0 and Readyz.seen == ["/readyz"]


def test_nothing_listening_is_unhealthy(broker: ThreadingHTTPServer, capsys) -> None:
    port = broker.server_address[1]
    broker.shutdown()
    broker.server_close()
    assert main() == 1
    assert f"no answer from http://127.0.0.1:{port}/readyz" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9443/readyz"),
        ("::", "http://[::1]:9443/readyz"),
        ("10.0.0.7", "http://10.0.0.7:9443/readyz"),
        ("fd00::7", "http://[fd00::7]:9443/readyz"),
    ],
)
def test_the_url_of_each_listen_address(host: str, url: str, monkeypatch) -> None:
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    assert readyz_url(load_settings(server={"host": host, "port": 9443})) == url

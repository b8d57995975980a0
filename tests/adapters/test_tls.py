"""TLS to an origin: one shared certificate-verifying context, so a self-signed origin is refused unless
``verify_tls: false`` says otherwise; plain HTTP origins load no CA bundle at all."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.hls.adapter import _verify, _verifying_context
from tests.adapters.test_hls_adapter import adapter_for, fails, run

PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/vnd.apple.mpegurl")
        self.send_header("content-length", str(len(PLAYLIST)))
        self.end_headers()
        self.wfile.write(PLAYLIST)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https_origin(tmp_path: Path) -> Iterator[str]:
    cert, key = self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/hls/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_self_signed_origin_is_refused(https_origin: str) -> None:
    err = fails(adapter_for(https_origin), lambda a: a.live_playlist("cam1"))
    assert not err.timeout


def test_verify_tls_false_accepts_it(https_origin: str) -> None:
    fetched = run(adapter_for(https_origin, verify_tls=False), lambda a: a.live_playlist("cam1"))
    assert fetched.body == PLAYLIST


def test_one_verifying_context_is_shared_and_plain_http_loads_none() -> None:
    assert _verify("https://a.example/", True) is _verify("https://b.example/", True) is _verifying_context()
    assert _verifying_context().verify_mode == ssl.CERT_REQUIRED and _verifying_context().check_hostname
    assert _verify("http://a.example/", True) is False
    assert _verify("https://a.example/", False) is False

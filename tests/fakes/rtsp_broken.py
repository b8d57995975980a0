"""RTSP cameras that misbehave, on 127.0.0.1, for the errors of systems reached by RTSP alone::

    with BrokenRtspCamera("hang") as cam:        # accepts the connection, then never says a word
        cam.url("/cam1")                         # rtsp://127.0.0.1:PORT/cam1
    with BrokenRtspCamera("malformed") as cam:   # answers OPTIONS, then DESCRIBEs a "session" with no media

``malformed`` answers DESCRIBE ``200 OK`` with ``Content-Type: application/sdp`` and a body that is no session
description (RFC 7826 §13.2 DESCRIBE; RFC 8866 SDP), as a camera's web error page would come back through a
confused proxy. Each connection is served by a daemon thread until the client goes or the camera stops.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Literal

Mode = Literal["hang", "malformed"]
NOT_SDP = b"<html><body>Service temporarily unavailable</body></html>\r\n"


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.request.settimeout(0.2)
        pending = b""
        while not self.server.stopping:
            try:
                chunk = self.request.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            while self.server.mode == "malformed" and b"\r\n\r\n" in pending:
                head, _, pending = pending.partition(b"\r\n\r\n")
                self.request.sendall(self._answer(head))

    @staticmethod
    def _answer(head: bytes) -> bytes:
        lines = head.decode("latin-1").split("\r\n")
        cseq = next((v.strip() for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "cseq"), "0")
        if lines[0].startswith("OPTIONS "):
            return f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n".encode()
        head_out = (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n"
                    f"Content-Length: {len(NOT_SDP)}\r\n\r\n")  # fmt: skip
        return head_out.encode() + NOT_SDP


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: Mode) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.stopping = mode, False


class BrokenRtspCamera:
    def __init__(self, mode: Mode) -> None:
        self._server = _Server(mode)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def url(self, mount: str = "/cam1") -> str:
        return f"rtsp://127.0.0.1:{self.port}{mount}"

    def __enter__(self) -> BrokenRtspCamera:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stopping = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

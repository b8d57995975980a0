"""The credential relay (broker/gateway/relay.py) against a scripted RTSP camera on 127.0.0.1: it answers the camera's
Digest challenge (RFC 2617 §3.2.2) so the client never holds the password, keeps the client's CSeq, passes
interleaved frames untouched (RFC 7826 §14), types the camera's refusal (AuthFailed) and silence (timeout), and
relays only for the process it was opened for."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from broker.adapterapi import AuthFailed, RtspSource
from broker.gateway.relay import Relay, RelayHub
from broker.gateway.rtspmsg import Message, read_unit

USER, PASSWORD, REALM, NONCE = "lotwatch", "s3 cr@t:pw", "camera", "abc123"
FRAME = b"$\x00\x00\x05hello"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Camera:
    """Digest-protected (qop=auth), or ``silent``; what it was sent is kept in ``seen``."""

    def __init__(self, password: str = PASSWORD, silent: bool = False) -> None:
        self.password, self.silent = password, silent
        self.seen: list[Message] = []
        self.connections = 0
        self.port = 0

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    def authorized(self, request: Message) -> bool:
        value = request.header("Authorization") or ""
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', value))
        method, uri = request.start.split(" ")[:2]
        if not value.startswith("Digest ") or p.get("uri") != uri:
            return False
        ha1, ha2 = md5(f"{USER}:{REALM}:{self.password}"), md5(f"{method}:{uri}")
        return p.get("response") == md5(f"{ha1}:{NONCE}:{p['nc']}:{p['cnonce']}:auth:{ha2}")

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await read_unit(reader)
                assert isinstance(request, Message)
                self.seen.append(request)
                if self.silent:
                    continue
                cseq = request.header("CSeq")
                if not self.authorized(request):
                    challenge = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth"'
                    writer.write(
                        f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: {challenge}\r\n\r\n".encode()
                    )
                    continue
                writer.write(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n".encode())
                if request.start.startswith("PLAY"):
                    writer.write(FRAME)
        except (EOFError, ConnectionError, asyncio.CancelledError):  # never a cancelled server task (see the last test)
            pass
        finally:
            writer.close()


@pytest.fixture
def hub() -> Iterator[RelayHub]:
    relays = RelayHub()
    yield relays
    relays.close()


async def ask(relay: Relay, *requests: str, frames: int = 0) -> list[Message | bytes]:
    """Send ``requests`` one by one as a client would, reading each answer (and ``frames`` frames at the end)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    got: list[Message | bytes] = []
    try:
        for cseq, request in enumerate(requests, start=7):
            writer.write(f"{request} RTSP/1.0\r\nCSeq: {cseq}\r\n\r\n".encode())
            got.append(await asyncio.wait_for(read_unit(reader), 10))
        for _ in range(frames):
            got.append(await asyncio.wait_for(read_unit(reader), 10))
    finally:
        writer.close()
    return got


def open_relay(hub: RelayHub, camera: Camera, password: str = PASSWORD, timeout: float = 10) -> Relay:
    source = RtspSource(f"rtsp://127.0.0.1:{camera.port}/cam1", USER, password)
    relay = hub.open(source, "system 'lot' camera 'cam1'", timeout)
    relay.admit(os.getpid())  # this test process is the relay's client
    return relay


def test_the_relay_answers_the_digest_challenge_the_client_never_holds_the_password(hub: RelayHub) -> None:
    camera = Camera()

    async def scenario() -> list[Message | bytes]:
        async with await camera.start():
            relay = open_relay(hub, camera)
            assert relay.url == f"rtsp://127.0.0.1:{relay.port}/cam1"
            answers = await ask(relay, f"DESCRIBE {relay.url}", f"PLAY {relay.url}", frames=1)
            assert relay.failure is None
            relay.close()
            return answers

    described, played, frame = asyncio.run(scenario())
    assert isinstance(described, Message) and described.status == 200 and described.header("CSeq") == "7"
    assert isinstance(played, Message) and played.status == 200 and played.header("CSeq") == "8"
    assert frame == FRAME  # interleaved RTP, untouched
    first, *authorized = camera.seen
    assert first.header("Authorization") is None  # the challenge came first: answered by the relay, not the client
    assert [m.start for m in authorized] == [
        f"DESCRIBE rtsp://127.0.0.1:{camera.port}/cam1 RTSP/1.0",
        f"PLAY rtsp://127.0.0.1:{camera.port}/cam1 RTSP/1.0",
    ]
    assert all(camera.authorized(m) for m in authorized)


def test_a_refused_password_is_auth_failed_and_the_client_gets_the_401(hub: RelayHub) -> None:
    camera = Camera(password="the-real-one")

    async def scenario() -> tuple[list[Message | bytes], Relay]:
        async with await camera.start():
            relay = open_relay(hub, camera)
            return await ask(relay, f"DESCRIBE {relay.url}"), relay

    (answer,), relay = asyncio.run(scenario())
    assert isinstance(answer, Message) and answer.status == 401 and answer.header("CSeq") == "7"
    failure = relay.failure
    assert isinstance(failure, AuthFailed) and failure.status == 401 and not failure.timeout
    assert PASSWORD not in str(failure) and "camera 'cam1'" in str(failure)
    assert len(camera.seen) == 2  # asked once, answered the challenge once: never a guessing loop


def test_a_silent_camera_is_a_timeout(hub: RelayHub) -> None:
    camera = Camera(silent=True)
    now = [1000.0]

    async def scenario() -> Relay:
        async with await camera.start():
            source = RtspSource(f"rtsp://127.0.0.1:{camera.port}/cam1", USER, PASSWORD)
            relay = hub.open(source, "system 'lot' camera 'cam1'", 10, monotonic=lambda: now[0])
            relay.admit(os.getpid())
            _, writer = await asyncio.open_connection("127.0.0.1", relay.port)
            writer.write(f"OPTIONS {relay.url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            while not camera.seen:
                await asyncio.sleep(0.01)
            now[0] += 7.9
            assert relay.failure is None  # silent for less than 80% of the 10 s timeout: not yet
            now[0] += 0.1
            writer.close()
            return relay

    failure = asyncio.run(scenario()).failure
    assert failure is not None and failure.timeout and not isinstance(failure, AuthFailed)


def test_only_the_process_the_relay_was_opened_for_is_relayed(hub: RelayHub) -> None:
    """Another local user who read the relay's port off ``ps`` is not given the camera."""
    camera = Camera()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])

    async def scenario() -> bytes:
        async with await camera.start():
            source = RtspSource(f"rtsp://127.0.0.1:{camera.port}/cam1", USER, PASSWORD)
            relay = hub.open(source, "system 'lot' camera 'cam1'", 10)
            relay.admit(other.pid)  # the relay serves that process; this test process is someone else
            reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
            writer.write(f"DESCRIBE {relay.url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            try:
                return await asyncio.wait_for(reader.read(), 10)
            except ConnectionResetError:  # closed with the request unread
                return b""
            finally:
                writer.close()
                relay.close()

    try:
        assert asyncio.run(scenario()) == b"" and camera.connections == 0
    finally:
        other.kill()
        other.wait()


def test_stopping_mid_stream_logs_no_traceback(hub: RelayHub, caplog: pytest.LogCaptureFixture) -> None:
    """Ctrl-C on ``make demo`` while the RTSP camera played printed "Exception in callback … CancelledError" with a
    traceback: the relay's connection task ended cancelled, and Python 3.11's stream server reads a finished
    client task's ``exception()``, which raises for a cancelled one (3.12 checks ``cancelled()`` first)."""
    camera = Camera()

    async def scenario() -> None:
        async with await camera.start():
            relay = open_relay(hub, camera)
            reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
            writer.write(f"PLAY {relay.url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            await asyncio.wait_for(read_unit(reader), 10)  # relaying now: the camera's answer came through
            hub.close()  # the broker stopping: every relay's task cancelled, the hub's loop closed
            writer.close()

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

"""The credential relay: the gateway's ffmpeg reaches a camera through it and never holds the camera's credentials.

ffmpeg takes RTSP credentials only in the URL's userinfo, so they used to be in its argument vector, which every
local user reads (``ps``, ``/proc/PID/cmdline``). Instead each start of a camera's ffmpeg gets a :class:`Relay`
listening on 127.0.0.1 (a random port) and the URL ``rtsp://127.0.0.1:PORT/<the camera's path>``. The relay:

- serves one connection, from the ffmpeg it was opened for: the peer's socket must be one of that process's open
  files (``/proc/net/tcp`` and ``/proc/PID/fd``), else it is closed and the relay waits on; once ffmpeg is
  connected it stops listening;
- opens the camera's RTSP connection itself (TLS for ``rtsps``) and copies both ways; interleaved RTP frames
  (RFC 7826 §14) pass untouched; each request gets the camera's URL for the local one and its own ``CSeq``
  (mapped back in the answer, §18.20), and an ``Authorization`` answering the camera's challenge
  (:mod:`.rtspmsg`: Digest or Basic, RFC 7826 §19.1): a ``401`` to an unanswered challenge is answered and the
  request sent again, never shown to ffmpeg;
- knows why a camera failed, as a type (:attr:`Relay.failure`): :class:`AuthFailed` for a ``401``/``403`` to the
  credentials (RFC 7826 §17.4.2, §17.4.4), an :class:`AdapterError` with the status for another error answer,
  ``timeout=True`` when the camera was silent for most of ``rtsp_timeout_seconds``.

All relays of a gateway run on one thread's event loop (:class:`RelayHub`): video bytes never wait on the broker's
own event loop, and the broker's never on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from broker.adapterapi import AdapterError, AuthFailed, RtspSource
from broker.gateway.rtspmsg import Credentials, Malformed, Message, read_unit

log = logging.getLogger("camgate.gateway")
PEER_WAIT_SECONDS = 5.0  # how long a connection waits to learn ffmpeg's pid (it connects right after it starts)
SILENT_SHARE = 0.8  # a camera silent for this share of ffmpeg's -timeout is why ffmpeg gave up


def socket_of(pid: int, peer_port: int, local_port: int) -> bool:
    """Whether the connection from 127.0.0.1:``peer_port`` to our ``local_port`` is a socket process ``pid`` holds."""
    want_local, want_remote = f"0100007F:{peer_port:04X}", f"0100007F:{local_port:04X}"
    inode = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[1] == want_local and fields[2] == want_remote:
                inode = fields[9]
    if inode is None:
        return False
    target = f"socket:[{inode}]"
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if str(fd.readlink()) == target:
                return True
    return False


@dataclass
class _Pending:
    cseq: str  # ffmpeg's
    request: Message  # as ffmpeg sent it, the camera's URL in it
    method: str
    retried: bool


class Relay:
    """One start of one camera's ffmpeg: its local URL, and why the camera failed (typed), if it did."""

    def __init__(
        self,
        source: RtspSource,
        where: str,
        timeout: float,
        loop: asyncio.AbstractEventLoop,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(source.url)
        self._now = monotonic  # for silence (tests inject one)
        self.where, self.timeout, self._loop = where, timeout, loop
        self._tls = parts.scheme == "rtsps"
        self._upstream = (parts.hostname or "", parts.port or (322 if self._tls else 554))
        self._upstream_base = f"{parts.scheme}://{parts.netloc}"
        self._creds = Credentials(source.username, source.password or "") if source.username is not None else None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.setblocking(False)
        self.port = int(self._sock.getsockname()[1])
        self._local_base = f"rtsp://127.0.0.1:{self.port}"
        self.url = urlunsplit(("rtsp", f"127.0.0.1:{self.port}", parts.path, parts.query, ""))
        self._pid: int | None = None
        self._failure: AdapterError | None = None
        self._heard: float | None = None  # monotonic time of the camera's last byte (or of connecting to it)
        self._ended: float | None = None  # when ffmpeg's connection ended
        self._taken = False
        self._seq = 0
        self._pending: dict[int, _Pending] = {}
        self._up: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        loop.call_soon_threadsafe(self._begin)

    def admit(self, pid: int) -> None:
        """The ffmpeg this relay serves has started: only its connection is relayed."""
        self._pid = pid

    @property
    def failure(self) -> AdapterError | None:
        """Why the camera failed, if the relay saw it: refused credentials, an error answer, silence."""
        return self._failure or self._silence()

    def _silence(self) -> AdapterError | None:
        until = self._ended or self._now()
        if self._heard is not None and until - self._heard >= SILENT_SHARE * self.timeout:
            return AdapterError(f"{self.where}: no answer from the camera within {self.timeout:g} s", timeout=True)
        return None

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._shut)

    # -- on the hub's loop ------------------------------------------------------------------------------------

    def _begin(self) -> None:
        task = self._loop.create_task(self._listen())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, sock=self._sock)

    def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
        else:
            self._sock.close()
        for task in list(self._tasks):
            task.cancel()
        if self._up is not None:
            self._up.close()

    def _fail(self, failure: AdapterError) -> None:
        if self._failure is None:
            self._failure = failure

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The stream server's task for a connection; it never ends cancelled. Python 3.11's server reads a finished
        client task's ``exception()``, which raises for a cancelled one: every stop in mid-stream (Ctrl-C on the
        demo, a camera's process retired) logged "Exception in callback … CancelledError" with a traceback
        (CPython checks ``cancelled()`` first from 3.12). Stopping is what cancels it: nothing more to do."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._serve(reader, writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        deadline = time.monotonic() + PEER_WAIT_SECONDS
        while self._pid is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._taken or self._pid is None or not socket_of(self._pid, int(peer[1]), self.port):
            log.warning("gateway: %s: a local process other than its ffmpeg connected to the relay: closed", self.where)
            writer.close()
            return
        self._taken = True
        if self._server is not None:
            self._server.close()  # one connection: ffmpeg's
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._relay(reader, writer)
        finally:
            self._ended = self._now()
            writer.close()
            if self._up is not None:
                self._up.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self._upstream
        tls = ssl.create_default_context() if self._tls else None  # verified, like every TLS the broker opens
        try:
            async with asyncio.timeout(SILENT_SHARE * self.timeout):
                up_reader, self._up = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None
                )
        except TimeoutError:
            self._fail(
                AdapterError(
                    f"{self.where}: the camera did not accept a connection within {SILENT_SHARE * self.timeout:g} s",
                    timeout=True,
                )
            )
            return
        except (OSError, ssl.SSLError) as exc:
            self._fail(AdapterError(f"{self.where}: cannot reach the camera: {exc.strerror or exc}"))
            return
        self._heard = self._now()
        down = asyncio.ensure_future(self._down(up_reader, writer))
        up = asyncio.ensure_future(self._uplink(reader))
        try:
            await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            down.cancel()
            up.cancel()

    async def _down(self, camera: asyncio.StreamReader, ffmpeg: asyncio.StreamWriter) -> None:
        """Camera to ffmpeg: frames as they are, answers with ffmpeg's CSeq; a challenge answered here."""
        try:
            while True:
                unit = await read_unit(camera)
                self._heard = self._now()
                if isinstance(unit, Message) and unit.is_response:
                    answer = self._answered(unit)
                    if answer is None:
                        continue
                    unit = answer
                ffmpeg.write(unit if isinstance(unit, bytes) else unit.encode())
                await ffmpeg.drain()
        except (EOFError, asyncio.IncompleteReadError, ConnectionError):
            self._fail(self._silence() or AdapterError(f"{self.where}: the camera closed the RTSP connection"))
        except Malformed as exc:
            self._fail(AdapterError(f"{self.where}: the camera's answer is not RTSP: {exc}"))

    async def _uplink(self, ffmpeg: asyncio.StreamReader) -> None:
        """ffmpeg to camera: requests rewritten (:meth:`_send`); frames (RTCP) and answers as they are."""
        assert self._up is not None
        with contextlib.suppress(EOFError, asyncio.IncompleteReadError, ConnectionError, Malformed):
            while True:
                unit = await read_unit(ffmpeg)
                if isinstance(unit, bytes) or unit.is_response:
                    self._up.write(unit if isinstance(unit, bytes) else unit.encode())
                else:
                    cseq = unit.header("CSeq") or "0"
                    method = unit.start.split(" ", 1)[0]
                    self._send(_Pending(cseq, unit, method, retried=False))
                await self._up.drain()

    def _send(self, pending: _Pending) -> None:
        """Send ffmpeg's request to the camera: its URL, our CSeq, the credentials once the camera challenged."""
        assert self._up is not None
        request = Message(pending.request.start, list(pending.request.headers), pending.request.body)
        method, uri, version = [*request.start.split(" ", 2), "", ""][:3]
        if uri.startswith(self._local_base):
            uri = self._upstream_base + uri[len(self._local_base) :]
        request.start = f"{method} {uri} {version}"
        self._seq += 1
        request.replace("CSeq", str(self._seq))
        request.replace("Authorization", self._creds.authorization(method, uri) if self._creds else None)
        self._pending[self._seq] = pending
        self._up.write(request.encode())

    def _answered(self, answer: Message) -> Message | None:
        """The answer to pass to ffmpeg (None: the relay sent the request again, with credentials)."""
        seq = answer.header("CSeq") or ""
        pending = self._pending.pop(int(seq), None) if seq.isdigit() else None
        if pending is None:
            return answer
        code = answer.status
        challenged = code == 401 and self._creds is not None and not pending.retried
        if challenged and self._creds is not None and self._creds.challenged(answer.all("WWW-Authenticate")):
            self._send(_Pending(pending.cseq, pending.request, pending.method, retried=True))
            return None
        if code in (401, 403):  # RFC 7826 §17.4.2 Unauthorized, §17.4.4 Forbidden
            why = (
                "refused the credentials" if self._creds is not None else "asks for credentials the system has none of"
            )
            self._fail(AuthFailed(f"{self.where}: the camera {why} (RTSP {code} to {pending.method})", status=code))
        elif code >= 400:
            self._fail(AdapterError(f"{self.where}: the camera answered RTSP {code} to {pending.method}", status=code))
        answer.replace("CSeq", pending.cseq)
        return answer


class RelayHub:
    """The thread whose event loop runs every relay of a gateway, started on first use."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def open(
        self, source: RtspSource, where: str, timeout: float, monotonic: Callable[[], float] = time.monotonic
    ) -> Relay:
        """A relay for one start of ffmpeg, listening already (its :attr:`Relay.url` can be given to ffmpeg)."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="gateway-relays", daemon=True)
                self._thread.start()
                self._loop = loop
            return Relay(source, where, timeout, self._loop, monotonic)

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            with contextlib.suppress(Exception):  # every relay's connections closed before the loop ends
                asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()


async def _cancel_all() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

"""SOAP 1.2 over HTTP to one ONVIF device: requests with a UsernameToken, answers read under caps and deadlines.

* Every request is POSTed as ``application/soap+xml`` with the operation's ``action`` (the WSDLs' soapAction,
  ``<service namespace>/<operation>``) and, unless the operation is PRE_AUTH, a WS-Security UsernameToken
  (:mod:`adapters.onvif.wsse`). ONVIF Core §5.9.1 lets a device ask for HTTP digest instead (RFC 2617/7616): the
  shared :class:`httpx.DigestAuth` answers such a challenge; a final HTTP 401/403 is :class:`AuthFailed`.
* Faults (Core §5.8.2, SOAP 1.2 Part 1 §5.4): ``env:Sender`` / ``ter:NotAuthorized`` ("Sender not
  Authorized"), and the WS-Security faults ``wsse:FailedAuthentication`` / ``InvalidSecurity`` /
  ``InvalidSecurityToken`` (WSS SOAP Message Security 1.0 §12) are :class:`AuthFailed`; any other fault is an
  :class:`AdapterError` quoting its codes and reason.
* The whole exchange runs under one deadline (a device that accepts the connection and never answers, or
  drips its answer, cannot hold a broker worker); a timeout is ``AdapterError(timeout=True)``. Answers are
  capped in size and parsed by :func:`adapters.onvif.soapxml.parse` (no DTDs, no entities).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from adapters.onvif.soapxml import NAMESPACES, MalformedXml, Node, el, envelope, parse, q
from adapters.onvif.wsse import username_token
from broker.adapterapi import AdapterError, AuthFailed

AUTH_FAULTS = frozenset({"NotAuthorized", "FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken"})
Clock = Callable[[], datetime]
CHECK = "check 'username', the password and the device's clock"
SLOW = "check that the device is up, or raise 'timeout_seconds'"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SoapFault:
    code: str
    subcodes: tuple[str, ...]
    reason: str

    def describe(self) -> str:
        codes = "/".join(c.rpartition("}")[2] for c in (self.code, *self.subcodes))
        return f"SOAP fault {codes}" + (f" ({self.reason})" if self.reason else "")

    @property
    def is_auth(self) -> bool:
        return any(c.rpartition("}")[2] in AUTH_FAULTS for c in self.subcodes) or self.code.endswith("}NotAuthorized")

    def has(self, subcode: str) -> bool:
        return any(c.rpartition("}")[2] == subcode for c in self.subcodes)


class SoapFaultError(AdapterError):
    """The device answered with a SOAP fault that is not about credentials."""

    def __init__(self, message: str, fault: SoapFault, *, status: int | None) -> None:
        super().__init__(message, status=status)
        self.fault = fault


def read_fault(fault: Node) -> SoapFault:
    code = fault.child(q("env:Code"))
    value = code.child(q("env:Value")) if code is not None else None
    subcodes: list[str] = []
    sub = code.child(q("env:Subcode")) if code is not None else None
    while sub is not None and len(subcodes) < 8:
        sub_value = sub.child(q("env:Value"))
        if sub_value is not None:
            subcodes.append(sub_value.resolve_qname(sub_value.text))
        sub = sub.child(q("env:Subcode"))
    reason = fault.path_text(q("env:Reason"), q("env:Text")) or ""
    return SoapFault(
        value.resolve_qname(value.text) if value is not None else "", tuple(subcodes), " ".join(reason.split())[:300]
    )


class SoapClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        system: str,
        username: str,
        password: str,
        timeout: float,
        max_bytes: int,
        clock: Clock = utc_now,
    ) -> None:
        self._http = http
        self.system, self.username, self._password = system, username, password
        self.timeout, self.max_bytes, self.clock = timeout, max_bytes, clock
        self.offset = timedelta(0)  # the device's clock minus ours

    def __repr__(self) -> str:
        return f"SoapClient(system={self.system!r}, username={self.username!r})"

    def where(self, operation: str) -> str:
        return f"system {self.system!r} {operation.partition(':')[2] or operation}"

    async def call(self, url: str, operation: str, *children: str, authenticate: bool = True) -> Node:
        """POST ``operation`` (``"trt:GetStreamUri"``) with ``children``; the ``...Response`` element."""
        prefix, _, name = operation.partition(":")
        where = self.where(operation)
        header = username_token(self.username, self._password, now=self.clock() + self.offset) if authenticate else ""
        headers = {"content-type": f'application/soap+xml; charset=utf-8; action="{NAMESPACES[prefix]}/{name}"'}
        try:
            async with asyncio.timeout(self.timeout):
                status, body = await self._post(url, envelope(el(operation, *children), header), headers, where)
        except (TimeoutError, httpx.TimeoutException):
            message = f"{where}: no answer within {self.timeout:g}s; {SLOW}"
            raise AdapterError(message, timeout=True) from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{where}: cannot reach {url}: {type(exc).__name__}: {exc}") from None
        if status in (401, 403):
            raise AuthFailed(f"{where}: HTTP {status}: the device refused the credentials; {CHECK}", status=status)
        return self._answer(status, body, operation, where)

    async def _post(self, url: str, payload: bytes, headers: dict[str, str], where: str) -> tuple[int, bytes]:
        async with self._http.stream("POST", url, content=payload, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise AdapterError(f"{where}: answer of {declared} bytes is over the {self.max_bytes}-byte cap")
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > self.max_bytes:
                    raise AdapterError(f"{where}: answer is over the {self.max_bytes}-byte cap")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)

    def _answer(self, status: int, body: bytes, operation: str, where: str) -> Node:
        try:
            root = parse(body, max_bytes=self.max_bytes)
        except MalformedXml as exc:
            if status != 200:
                raise AdapterError(f"{where}: HTTP {status} without a SOAP answer", status=status) from None
            raise AdapterError(f"{where}: malformed answer: {exc}", status=status) from None
        if root.tag != q("env:Envelope"):
            raise AdapterError(f"{where}: malformed answer: <{root.local}> is not a SOAP 1.2 Envelope", status=status)
        body_node = root.child(q("env:Body"))
        if body_node is None:
            raise AdapterError(f"{where}: malformed answer: the Envelope has no Body", status=status)
        fault_node = body_node.child(q("env:Fault"))
        if fault_node is not None:
            fault = read_fault(fault_node)
            if fault.is_auth:
                message = f"{where}: the device refused the credentials: {fault.describe()}; {CHECK}"
                raise AuthFailed(message, status=status)
            raise SoapFaultError(f"{where}: {fault.describe()}", fault, status=status)
        if status != 200:
            raise AdapterError(f"{where}: HTTP {status}", status=status)
        prefix, _, name = operation.partition(":")
        expected = "{" + NAMESPACES[prefix] + "}" + name + "Response"
        answer = body_node.children[0] if body_node.children else None
        if answer is None or answer.tag != expected:
            found = f"<{answer.local}>" if answer is not None else "an empty Body"
            raise AdapterError(f"{where}: malformed answer: {found} instead of <{name}Response>", status=status)
        return answer

    async def learn_clock(self, device_url: str) -> None:
        """Set :attr:`offset` from GetSystemDateAndTime (Core §8.3.6, PRE_AUTH); unchanged if it cannot be read."""
        sent = self.clock()
        try:
            answer = await self.call(device_url, "tds:GetSystemDateAndTime", authenticate=False)
        except (AuthFailed, SoapFaultError):
            return  # some devices want credentials even here, or lack it: then our own clock is all we have
        device = device_utc(answer)
        if device is not None:
            self.offset = device - (sent + (self.clock() - sent) / 2)


def device_utc(answer: Node) -> datetime | None:
    """``SystemDateAndTime/UTCDateTime`` (tt:DateTime: Date{Year,Month,Day} Time{Hour,Minute,Second})."""
    utc = answer.path("SystemDateAndTime", "UTCDateTime")
    if utc is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(utc.path_text(a, b) or "") for a, b in _DATE_FIELDS)
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


_DATE_FIELDS = (("Date", "Year"), ("Date", "Month"), ("Date", "Day"), ("Time", "Hour"), ("Time", "Minute"),
                ("Time", "Second"))  # fmt: skip

"""One HTTP client per camera device: Digest authentication (RFC 7616), capped bodies, an overall deadline.

Requests never follow redirects (a redirect could leave the device), never read proxy or ``.netrc`` settings
from the environment, and read bodies under a size cap within ``timeout_seconds`` all told (a device that
accepts the connection and then says nothing, or dribbles, cannot hold a broker worker longer).
Errors name the system and the request path, never the password:

- HTTP 401 or 403 after authenticating: :class:`AuthFailed` (RFC 9110 §15.5.2, §15.5.4);
- no complete answer in time: ``AdapterError(timeout=True)``;
- any other status: ``AdapterError(status=...)``, with the device's own explanation when ``explain`` finds one.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Callable

import httpx

from adapters.device.settings import DeviceSettings
from broker.adapterapi import AdapterError, AuthFailed, Fetched

ERROR_BODY_CAP = 64 * 1024  # read this much of an error answer for ``explain``
Explain = Callable[[bytes], str | None]


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    """One certificate-verifying context for every device (loading the CA bundle per client costs ~13 ms)."""
    return httpx.create_ssl_context()


def _verify(origin: str, verify_tls: bool) -> ssl.SSLContext | bool:
    return _verifying_context() if verify_tls and origin.startswith("https://") else False


def _media_type(response: httpx.Response) -> str:
    value = response.headers.get("content-type", "application/octet-stream")
    return value.split(";", 1)[0].strip().lower() or "application/octet-stream"


class DeviceHttp:
    def __init__(self, system_id: str, origin: str, settings: DeviceSettings, password: str, *, agent: str) -> None:
        self.system_id = system_id
        self.origin = origin
        self.username = settings.username
        self.timeout = settings.timeout_seconds
        self._client = httpx.AsyncClient(
            base_url=origin,
            auth=httpx.DigestAuth(settings.username, password),
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=30),
            verify=_verify(origin, settings.verify_tls),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": agent, "accept-encoding": "identity"},
        )

    def __repr__(self) -> str:
        return f"DeviceHttp(system={self.system_id!r}, origin={self.origin!r}, username={self.username!r})"

    async def get(self, target: str, *, cap: int, explain: Explain | None = None) -> Fetched:
        """GET ``target`` (path and query, already encoded) and return its 200 answer; ``ref`` is ``target``."""
        where = f"system {self.system_id!r}: GET {target.split('?', 1)[0]}"
        try:
            async with asyncio.timeout(self.timeout):
                return await self._get(target, cap, where, explain)
        except (TimeoutError, httpx.TimeoutException):
            raise AdapterError(f"{where}: no answer within {self.timeout:g}s", timeout=True) from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{where}: {type(exc).__name__}: {exc}") from None

    async def _get(self, target: str, cap: int, where: str, explain: Explain | None) -> Fetched:
        async with self._client.stream("GET", target) as response:
            status = response.status_code
            if status in (401, 403):
                offered = sorted({c.split(" ", 1)[0] for c in response.headers.get_list("www-authenticate")})
                hint = f" (the device offers: {', '.join(offered)})" if offered else ""
                fix = (
                    "give the account the viewer privilege"
                    if status == 403
                    else "check the username and the password in password_env / password_file"
                )
                raise AuthFailed(f"{where}: the device refused user {self.username!r} (HTTP {status}){hint}; {fix}",
                                 status=status)  # fmt: skip
            if status != 200:
                said = explain(await self._read(response, ERROR_BODY_CAP, where, truncate=True)) if explain else None
                raise AdapterError(f"{where}: the device answered HTTP {status}" + (f": {said}" if said else ""),
                                   status=status)  # fmt: skip
            body = await self._read(response, cap, where)
            return Fetched(body=body, content_type=_media_type(response), ref=target)

    @staticmethod
    async def _read(response: httpx.Response, cap: int, where: str, *, truncate: bool = False) -> bytes:
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > cap:
            raise AdapterError(f"{where}: {declared} bytes declared, over the {cap}-byte cap")
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > cap:
                if truncate:
                    chunks.append(chunk[: cap - (total - len(chunk))])
                    break
                raise AdapterError(f"{where}: body over the {cap}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        await self._client.aclose()

"""Per-issuer JWK Set cache.

Keys come either inline from the configuration or from the issuer's ``jwks_uri``. A fetched set is used for
``jwks_cache_seconds``. A token whose ``kid`` is not in the set triggers one refresh (the issuer may have
rotated its keys), but never more than one fetch per ``jwks_min_refresh_seconds`` whatever triggered it, so a
flood of tokens with made-up kids cannot turn camgate into a traffic amplifier against an identity provider.
Concurrent refreshes are coalesced behind one :class:`asyncio.Lock`.

When the set cannot be fetched, or the cached one has expired and cannot be refreshed, verification fails
closed with :class:`~broker.errors.AuthenticationError` (401 for the client; the cause is logged).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key
from joserfc.jws import JWSRegistry

from broker.clock import Clock
from broker.errors import AuthenticationError
from broker.identity.config import IssuerConfig

log = logging.getLogger(__name__)

FETCH_TIMEOUT = httpx.Timeout(5.0)
MAX_JWKS_BYTES = 512 * 1024


def import_public_keys(document: object, source: str) -> list[Key]:
    """Import the usable keys of a JWK Set, skipping (and logging) the ones that cannot be used.

    RFC 7517 §5: "Implementations SHOULD ignore JWKs within a JWK Set that use "kty" (key type) values that
    are not understood by them, that are missing required members, or for which values are out of the
    supported ranges." Symmetric keys are dropped too: a public JWK Set has no business carrying them.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set (no 'keys' array)")
    keys: list[Key] = []
    for index, data in enumerate(document["keys"]):
        if not isinstance(data, dict) or data.get("kty") == "oct":
            log.warning("jwks %s: ignoring key #%d (not an asymmetric JWK)", source, index)
            continue
        try:
            key = JWKRegistry.import_key(data)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            log.warning("jwks %s: ignoring key #%d: %s", source, index, exc)
            continue
        keys.append(key)
    if not keys:
        raise ValueError("no usable key in the JWK Set")
    return keys


def key_fits(key: Key, alg: str) -> bool:
    """Whether ``key`` may verify a signature made with ``alg`` (key type, curve, ``use``, ``alg``, ``key_ops``)."""
    # RFC 7517 §4.2: "use" ... "sig" (signature). §4.4: "alg" identifies the algorithm intended for use with
    # the key. §4.3: "key_ops" identifies the operation(s) for which the key is intended to be used.
    if key.get("use") not in (None, "sig"):
        return False
    if key.get("alg") not in (None, alg):
        return False
    ops = key.get("key_ops")
    if ops is not None and "verify" not in ops:
        return False
    model = JWSRegistry.algorithms.get(alg)
    if model is None:
        return False
    try:
        model.check_key(key)
    except (JoseError, ValueError, TypeError):
        return False
    return True


class JwksCache:
    """The keys of one issuer, fetched on demand with ``http`` and timed with ``clock``."""

    def __init__(self, config: IssuerConfig, clock: Clock, http: httpx.AsyncClient | None) -> None:
        self._issuer = config.issuer
        self._uri = config.jwks_uri
        self._clock = clock
        self._http = http
        self._min_refresh = config.jwks_min_refresh_seconds
        self._cache_seconds = config.jwks_cache_seconds
        self._lock = asyncio.Lock()
        self._keys: list[Key] | None = None
        self._fetched_at: float | None = None  # last successful fetch
        self._last_attempt: float | None = None  # last fetch, successful or not
        self._last_failed = False
        self._generation = 0
        #: number of HTTP fetches made (for metrics and tests)
        self.fetches = 0
        if config.jwks is not None:
            self._keys = import_public_keys(config.jwks, f"inline ({config.issuer})")
        elif http is None:
            raise ValueError("an http client is required for an issuer with a jwks_uri")

    async def key_for(self, kid: str | None, alg: str) -> Key:
        """The key that verifies a token with header ``kid`` / ``alg``; refreshes once on an unknown kid."""
        generation = self._generation
        keys = await self._current_keys()
        key = self._find(keys, kid, alg)
        if key is not None:
            return key
        if self._uri is not None:
            # Unknown kid: the issuer may have rotated its keys. One refresh, rate-limited and coalesced.
            keys = await self._refresh(generation)
            key = self._find(keys, kid, alg)
            if key is not None:
                return key
            if self._last_failed:
                raise self._unavailable()
        if kid is None:
            raise AuthenticationError("no key id and no single key for the algorithm", issuer=self._issuer)
        raise AuthenticationError("unknown key id", issuer=self._issuer)

    def _find(self, keys: list[Key], kid: str | None, alg: str) -> Key | None:
        if kid is None:
            # RFC 7515 §4.1.4: "kid" is OPTIONAL. Without it, accept only an unambiguous key.
            candidates = [k for k in keys if key_fits(k, alg)]
            if len(candidates) > 1:
                raise AuthenticationError("missing key id", issuer=self._issuer)
            return candidates[0] if candidates else None
        matches = [k for k in keys if k.kid == kid]
        if not matches:
            return None
        for key in matches:
            if key_fits(key, alg):
                return key
        raise AuthenticationError(f"key {kid} cannot verify {alg}", issuer=self._issuer)

    async def _current_keys(self) -> list[Key]:
        if self._uri is None:
            assert self._keys is not None
            return self._keys
        if self._keys is not None and not self._expired():
            return self._keys
        return await self._refresh(self._generation)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _expired(self) -> bool:
        return self._fetched_at is None or self._now() - self._fetched_at >= self._cache_seconds

    def _unavailable(self) -> AuthenticationError:
        return AuthenticationError(f"jwks unavailable for issuer {self._issuer}", issuer=self._issuer)

    def _usable_keys(self) -> list[Key]:
        if self._keys is None or self._expired():
            raise self._unavailable()
        return self._keys

    async def _refresh(self, seen_generation: int) -> list[Key]:
        async with self._lock:
            if self._generation != seen_generation:
                # Another task fetched while this one waited for the lock: use its result.
                return self._usable_keys()
            now = self._now()
            if self._last_attempt is not None and now - self._last_attempt < self._min_refresh:
                log.debug("jwks %s: refresh suppressed by rate limit", self._issuer)
                return self._usable_keys()
            self._last_attempt = now
            self._generation += 1
            try:
                keys = await self._fetch()
            except AuthenticationError:
                self._last_failed = True
                raise
            self._keys = keys
            self._fetched_at = now
            self._last_failed = False
            return keys

    async def _fetch(self) -> list[Key]:
        assert self._uri is not None and self._http is not None
        self.fetches += 1
        try:
            async with self._http.stream(
                "GET", self._uri, timeout=FETCH_TIMEOUT, headers={"Accept": "application/json"}
            ) as response:
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise ValueError(f"response larger than {MAX_JWKS_BYTES} bytes")
            document: Any = json.loads(body)
            keys = import_public_keys(document, self._uri)
        except (httpx.HTTPError, ValueError, RecursionError) as exc:
            log.warning("jwks fetch failed for issuer %s from %s: %s", self._issuer, self._uri, exc)
            raise self._unavailable() from exc
        log.info("jwks fetched for issuer %s: %d key(s)", self._issuer, len(keys))
        return keys

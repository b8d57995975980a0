"""Confining URIs found in upstream playlists to the system's ``base_url`` (no SSRF, no path escapes).

A *ref* is a path relative to ``base_url``, optionally with a query: ``cam1/seg001.ts?sig=abc``. Every ref the
adapter hands out or accepts is canonical: resolving it against ``base_url`` yields itself. URIs in playlists
(RFC 8216 section 4.1: "URIs ... MAY be relative"; relative ones resolve against the playlist's URI, RFC 3986
section 5) are resolved and then refused when they leave the system: another scheme, host or port, user info,
or a path outside ``base_url``'s path, including escapes the origin might decode for us (``%2e%2e``, ``%2F``,
double encoding, backslashes, NUL).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from broker.adapterapi import AdapterConfigError, AdapterError

MAX_URI_CHARS = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 3986 section 2: unreserved, reserved and '%'. No spaces, quotes, backslashes, controls or non-ASCII.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ENCODED_SLASH = re.compile(r"%2f|%5c", re.IGNORECASE)
_DOUBLE_ENCODED = re.compile(rb"%[0-9A-Fa-f]{2}")
_CAMERA_REF = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*")


def _refuse(why: str, uri: str) -> AdapterError:
    shown = uri if len(uri) <= 200 else uri[:200] + "..."
    return AdapterError(f"URI {shown!r} refused: {why}")


def _check_chars(uri: str) -> None:
    if len(uri) > MAX_URI_CHARS:
        raise _refuse(f"longer than {MAX_URI_CHARS} characters", uri)
    if not _URI_CHARS.fullmatch(uri):
        bad = next(c for c in uri if not _URI_CHARS.fullmatch(c))
        raise _refuse(f"character {bad!r} is not allowed in a URI", uri)
    if _BAD_PERCENT.search(uri):
        raise _refuse("malformed percent-encoding", uri)


class UriPolicy:
    """Resolves and checks refs for one system rooted at ``base_url``."""

    def __init__(self, base_url: str | None) -> None:
        if not base_url:
            raise AdapterConfigError("required for the hls adapter", setting="base_url")
        try:
            _check_chars(base_url)
            parts = urlsplit(base_url)
            port = parts.port
        except (AdapterError, ValueError) as exc:
            raise AdapterConfigError(f"{exc}", setting="base_url") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise AdapterConfigError("must be an http:// or https:// URL with a host", setting="base_url")
        if parts.username is not None or parts.password is not None:
            raise AdapterConfigError("credentials belong in 'auth', not in the URL", setting="base_url")
        if parts.query or parts.fragment:
            raise AdapterConfigError("must not have a query or fragment", setting="base_url")
        path = parts.path or "/"
        if not path.endswith("/"):
            path += "/"
        if "//" in path or any(s in (".", "..") for s in unquote_to_bytes(path).decode("latin-1").split("/")):
            raise AdapterConfigError("path must be normalised", setting="base_url")
        self.scheme = scheme
        self.host = parts.hostname
        self.port = port or DEFAULT_PORTS[scheme]
        self.path = path
        self.base_url = f"{scheme}://{parts.netloc.lower()}{path}"

    def url(self, ref: str) -> str:
        """The upstream URL of a canonical ref."""
        return self.base_url + self.check_ref(ref)

    def check_ref(self, ref: str) -> str:
        """``ref`` if it is canonical and inside the system (defence in depth), else AdapterError."""
        try:
            canonical = bool(ref) and self._resolve(self.base_url, ref) == ref
        except AdapterError:
            canonical = False
        if not canonical:
            raise _refuse("not a canonical ref of this system", ref)
        return ref

    def resolve(self, base_ref: str, uri: str) -> str:
        """Resolve ``uri`` found in the playlist at ``base_ref`` (``""`` means ``base_url`` itself)."""
        base = self.base_url + (self.check_ref(base_ref) if base_ref else "")
        return self._resolve(base, uri)

    def camera_path(self, template: str, camera_ref: str) -> str:
        """The ref of ``template`` (``live_path`` / ``snapshot_path``) for a camera."""
        if len(camera_ref) > 256 or not _CAMERA_REF.fullmatch(camera_ref):
            raise AdapterError(f"camera ref {camera_ref!r} is not a plain relative path")
        return self.resolve("", template.replace("{ref}", camera_ref))

    def _resolve(self, base: str, uri: str) -> str:
        if not uri:
            raise _refuse("empty", uri)
        _check_chars(uri)
        try:
            if "//" in urlsplit(uri).path:  # urljoin would silently merge empty segments; refuse instead
                raise _refuse("empty path segment ('//')", uri)
            joined = urljoin(base, uri)  # RFC 3986 section 5.2, including removal of dot segments
            parts = urlsplit(joined)
            port = parts.port
        except ValueError as exc:
            raise _refuse(str(exc), uri) from None
        scheme = parts.scheme.lower()
        if scheme != self.scheme:
            raise _refuse(f"scheme {scheme or '(none)'!r} is not the system's {self.scheme!r}", uri)
        if parts.username is not None or parts.password is not None:
            raise _refuse("user info in URI", uri)
        if parts.hostname != self.host:
            raise _refuse("another host", uri)
        if (port or DEFAULT_PORTS[scheme]) != self.port:
            raise _refuse("another port", uri)
        path = parts.path
        if not path.startswith(self.path):
            raise _refuse("path escapes the system's base path", uri)
        rel = path[len(self.path) :]
        # Origins may decode before routing: check what they would see, not just what we sent.
        if _ENCODED_SLASH.search(rel):
            raise _refuse("encoded slash or backslash in path", uri)
        decoded = unquote_to_bytes(rel)
        if any(b < 0x20 or b == 0x7F or b == 0x5C for b in decoded):
            raise _refuse("control character or backslash in decoded path", uri)
        if _DOUBLE_ENCODED.search(decoded):
            raise _refuse("double percent-encoding in path", uri)
        for segment in decoded.split(b"/"):
            if segment in (b".", b".."):
                raise _refuse("dot segment in decoded path escapes the base path", uri)
            if not segment:
                raise _refuse("empty path segment ('//' or trailing '/')", uri)
        return rel + ("?" + parts.query if parts.query else "")

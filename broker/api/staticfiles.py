"""Static console files served with validators and compression: an officer on mobile data downloads the console
(hls.js is most of it) once, not on every visit.

Each file is read once per (size, mtime) and kept with its SHA-256 entity tag and a gzip body (RFC 9110 §8.4.1)
when that is smaller. ``Cache-Control: no-cache`` keeps every use revalidated (§5.2.2.4 of RFC 9111), so a
changed file is seen at once; an unchanged one costs a 304.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

_GZIP_FROM = 1024  # below this, compression saves less than its headers cost


@dataclass(frozen=True, slots=True)
class Asset:
    stamp: tuple[int, int]
    body: bytes
    gzipped: bytes | None
    etag: str  # a strong entity tag, quoted (RFC 9110 §8.8.3)


class AssetCache:
    def __init__(self) -> None:
        self._assets: dict[Path, Asset] = {}
        self._lock = threading.Lock()

    def get(self, path: Path) -> Asset:
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        asset = self._assets.get(path)
        if asset is None or asset.stamp != stamp:
            body = path.read_bytes()
            packed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= _GZIP_FROM else None
            gzipped = packed if packed is not None and len(packed) < len(body) else None
            asset = Asset(stamp, body, gzipped, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
            with self._lock:
                self._assets[path] = asset
        return asset


def _accepts_gzip(request: Request) -> bool:
    # RFC 9110 §12.5.3: a coding listed with q=0 is "not acceptable".
    for item in request.headers.get("accept-encoding", "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _matches(request: Request, etag: str) -> bool:
    # RFC 9110 §13.1.2: If-None-Match uses the weak comparison; "*" matches any current representation.
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def serve(request: Request, asset: Asset, media_type: str, headers: dict[str, str]) -> Response:
    """200 with the (possibly gzipped) body, or 304 when the client already holds this representation."""
    gz = asset.gzipped is not None and _accepts_gzip(request)
    etag = f'{asset.etag[:-1]}-gz"' if gz else asset.etag  # each encoding is its own representation
    out = {**headers, "ETag": etag, "Vary": "Accept-Encoding"}
    if _matches(request, etag):
        return Response(status_code=304, headers=out)
    if gz:
        out["Content-Encoding"] = "gzip"
    body = asset.gzipped if gz and asset.gzipped is not None else asset.body
    return Response(body, media_type=media_type, headers=out)

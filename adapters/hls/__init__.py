"""The generic HLS adapter: an HTTP origin serving live playlists, segments, JPEG snapshots and recordings."""

from __future__ import annotations

from adapters.hls.adapter import HlsAdapter
from adapters.hls.settings import HlsSettings

__all__ = ["HlsAdapter", "HlsSettings"]

"""Pausing Python's cyclic garbage collector while the documents are loaded and compiled.

A 50,000-camera load allocates millions of small objects that all live on; every full pass of the collector
walks every one of them, so the passes alone grow faster than the load (4.0 s at 50,000 cameras, 2.2 s with
the collector paused; 0.62 s and 0.45 s at 10,000). Documents and the compiled policy build no reference
cycles, so the pause leaves nothing behind. Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off for the block (nesting and threads allowed: the last one out restores it)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()

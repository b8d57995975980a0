"""Replacing a document file atomically, and only if nobody changed it since it was read.

The new bytes go to a temporary file in the same directory (same file system), flushed and fsynced, with the
old file's permissions; then, holding an exclusive ``flock`` on the old file (concurrent syncs wait for each
other) and only if its bytes are still the ones the change was computed from, ``before_replace`` runs (the
audit record: no record, no change) and ``rename(2)`` swaps the file in. A reader sees the old document or the
new one, never a mix; a crash leaves the old one (and at worst a stray ``.NAME.*.sync`` file).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from broker.errors import Conflict


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def replace_if_unchanged(path: Path, data: bytes, expected_sha256: str, before_replace: Callable[[], None]) -> None:
    """Write ``data`` to ``path`` (a symlink's target) if its bytes still hash to ``expected_sha256``, else
    :class:`Conflict`; exceptions from ``before_replace`` leave the file untouched."""
    target = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".sync", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        st = target.stat()
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        with contextlib.suppress(OSError):  # keep the owner when allowed to (root); else the writer owns it
            os.chown(tmp, st.st_uid, st.st_gid)
        with target.open("rb") as current:
            fcntl.flock(current.fileno(), fcntl.LOCK_EX)
            if sha256(current.read()) != expected_sha256:
                raise Conflict(f"{path} changed while inventory sync ran; nothing was written: run sync again")
            before_replace()
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

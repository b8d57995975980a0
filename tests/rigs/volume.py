"""A small size-limited tmpfs for a broker's data folder, and a filler file that takes its free space.

Mounting needs root (the rigs skip, saying so, when ``mount`` is refused). The filler is written in chunks until
``free`` bytes are left, or until the filesystem refuses more (ENOSPC: other writers compete for the last pages).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

PAGE = 4096
CHUNK = 256 * 1024


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class Volume:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self, leave: int = 0) -> int:
        """Write the filler until at most ``leave`` bytes are free (0: until the filesystem is full); returns the
        free bytes left."""
        zeros = bytes(CHUNK)
        with self.filler.open("ab") as f:
            while (free := free_bytes(self.path)) > leave:
                want = min(CHUNK, max(PAGE, (free - leave) // PAGE * PAGE))
                try:
                    f.write(zeros[:want])
                    f.flush()
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    if leave > 0 or want == PAGE:
                        break
                    zeros = zeros[:PAGE]  # the last pages, one at a time
        return free_bytes(self.path)

    def unfill(self) -> None:
        self.filler.unlink(missing_ok=True)

    @property
    def free(self) -> int:
        return free_bytes(self.path)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Volume]:
    """A tmpfs of ``size`` mounted on ``path`` (created), unmounted when done (lazily if something still holds it)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield Volume(path)
    finally:
        if _run("umount", str(path)).returncode != 0:
            _run("umount", "-l", str(path))


@contextlib.contextmanager
def ext4_loop(path: Path, image: Path, size_mb: int = 32) -> Iterator[Volume]:
    """An ext4 filesystem in ``image`` (a file of ``size_mb``), loop-mounted on ``path``; unmounted and deleted
    when done. Unlike tmpfs, ext4 refuses writes through descriptors already open to an immutable file."""
    path.mkdir(parents=True, exist_ok=True)
    with image.open("wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode != 0:
        pytest.skip(f"cannot make an ext4 filesystem: {made.stderr.strip() or 'mkfs.ext4 failed'}")
    mounted = _run("mount", "-o", "loop", str(image), str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount a filesystem (needs root and loop devices): {mounted.stderr.strip()}")
    try:
        yield Volume(path)
    finally:
        if _run("umount", str(path)).returncode != 0:
            _run("umount", "-l", str(path))
        image.unlink(missing_ok=True)


def write_protect(*files: Path, on: bool = True) -> None:
    """``chattr +i`` (or ``-i``): no writes, not even through descriptors already open (on ext4). Files that do
    not exist (any more) are left alone."""
    present = [str(f) for f in files if f.exists()]
    assert present or not on, f"none of {files} exists"
    done = _run("chattr", "+i" if on else "-i", *present) if present else None
    assert done is None or done.returncode == 0, done.stderr

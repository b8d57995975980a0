"""Owner-only files: the data folder and what camgate keeps in it (the SQLite database and its ``-wal`` and
``-shm``, the dev issuer's key, dev secrets, the checkpoint key and witness), created 0700 / 0600.

CJIS Security Policy 5.5.2 (access enforcement) and NIST SP 800-53 AC-3 / AC-6 (least privilege): the audit
log and the keys are readable by the broker's own account only. Created that way, not fixed afterwards: the
folder is made 0700 and the database file exists 0600 before SQLite opens it, and SQLite gives its ``-wal``
and ``-shm`` files the database file's permissions. :func:`looser_than_private` names what a ``chmod`` or an
older camgate left readable by others, for ``/readyz``'s ``warnings``.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parent 0700; an existing folder is left as it is (and warned about)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if it does not exist (its folder 0700 if missing)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def sqlite_files(database: Path) -> list[Path]:
    """The database file and the files SQLite keeps beside it."""
    return [database.with_name(database.name + suffix) for suffix in SQLITE_SUFFIXES]


def looser_than_private(folders: Iterable[Path], files: Iterable[Path]) -> list[str]:
    """One line for each existing folder that others may enter or read (not 0700), and each file that others
    may read or write (not 0600), with the command that fixes it."""
    warnings: list[str] = []
    for path, want in [*((f, DIR_MODE) for f in folders), *((f, FILE_MODE) for f in files)]:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue  # not there (yet): nothing to warn about
        if mode & 0o077:
            warnings.append(f"{path} is mode {mode:04o}, open to other users: chmod {want:o} {path}")
    return warnings


def data_dir_files(data_dir: Path) -> list[Path]:
    """The regular files directly in the data folder (keys, secrets, the witness, the database)."""
    try:
        with os.scandir(data_dir) as entries:
            return [Path(e.path) for e in entries if e.is_file(follow_symlinks=False)]
    except OSError:
        return []

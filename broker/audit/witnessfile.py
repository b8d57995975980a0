"""The local witness: the broker's latest checkpoint, in a file outside the database (beside its key).

A store emptied, cut back or rolled back to an old backup loses its checkpoint rows with its records; this
file does not, so ``camgate audit verify`` still finds that the chain no longer contains the checkpoint it
holds. The file is one JSON object, :meth:`Checkpoint.to_dict`, replaced atomically (a temporary file in the
same directory, fsynced, renamed over the old one, the directory fsynced): a reader sees the old checkpoint
or the new one, never a mix, and a crash leaves the old one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from broker.audit.checkpoints import Checkpoint
from broker.private import private_dir


class WitnessFileError(ValueError):
    """The witness file exists but holds no checkpoint (``str`` says why)."""


def read(path: Path) -> Checkpoint | None:
    """The checkpoint in ``path``; None if there is no such file; raises WitnessFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessFileError(f"{path}: cannot be read ({exc})") from None
    try:
        return Checkpoint.from_dict(json.loads(text))
    except (ValueError, RecursionError) as exc:  # CheckpointError and JSONDecodeError are ValueErrors
        raise WitnessFileError(f"{path}: not a checkpoint ({exc})") from None


def write(path: Path, cp: Checkpoint) -> bool:
    """Replace the file's checkpoint with ``cp`` unless it already holds a later one (more records, or the
    same records signed later). Returns whether it wrote. Raises OSError."""
    try:
        current = read(path)
    except WitnessFileError:
        current = None  # unreadable: replaced by a good one
    if current is not None and (current.records, current.ts) > (cp.records, cp.ts):
        return False
    data = (json.dumps(cp.to_dict(), sort_keys=True, indent=1) + "\n").encode()
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # owner-only, as everything in the data folder (broker.private)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    with contextlib.suppress(OSError):  # make the rename durable (POSIX: fsync the directory)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return True

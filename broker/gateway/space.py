"""The audit log's disk reserve is out of the gateway's reach (issue 12: the rolling recording refilled freed
space within seconds, on the volume of the audit database, and the audit log could not write).

The audit log stops new access when its filesystem has less than ``audit.reserve_bytes`` free
(:mod:`broker.audit.health`). The gateway's segments (live windows and the rolling recording, ``record: always``)
live by default beside the SQLite database, in ``<data_dir>/gateway``. So when the gateway's work directory is on
the audit database's filesystem, the gateway keeps twice the reserve free there. Each tick, while less is free:

1. it deletes its oldest recorded segments, of whichever camera holds the oldest, never a running camera's live
   window (:func:`shed_oldest`);
2. if that is not enough, it pauses recording always: those cameras stop unless someone watches them, and their
   segments go too. It records again once the space it held then is free on top of the reserve's share, so that
   starting again cannot take the disk back down at once.

So the recording's footprint shrinks to what viewers are watching, and a full disk is the audit log's to meet
(failing closed), not the recording's to cause.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol


class Shedding(Protocol):
    """A camera stream as far as disk space goes (:class:`broker.gateway.stream.CameraStream`)."""

    def oldest_spare(self) -> datetime | None:
        """When its oldest segment that may be deleted starts; None if none may."""
        ...

    def shed_oldest(self) -> int:
        """Delete that segment; the bytes freed."""
        ...


class DiskGuard:
    """``keep_free`` bytes left free on the filesystem of ``audit_db`` by whatever the gateway writes there."""

    def __init__(self, keep_free: int, audit_db: Path | None) -> None:
        self.keep_free = keep_free
        self.audit_db = audit_db

    def free(self, work: Path) -> int | None:
        """Free bytes on ``work``'s filesystem; None when there is nothing to guard (no reserve, no SQLite file,
        another filesystem, or it cannot be read)."""
        if self.keep_free <= 0 or self.audit_db is None:
            return None
        try:
            if os.stat(work).st_dev != os.stat(self.audit_db).st_dev:
                return None
            st = os.statvfs(work)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    def shortfall(self, work: Path, extra: int = 0) -> int:
        """Bytes to free on ``work``'s filesystem for ``keep_free`` (plus ``extra``) to be free; 0 if none."""
        free = self.free(work)
        return 0 if free is None else max(0, self.keep_free + extra - free)


def shed_oldest(streams: Iterable[Shedding], short: int, shortfall: Callable[[], int]) -> tuple[int, int, int]:
    """Delete the oldest spare segments across ``streams`` while ``shortfall()`` says bytes are missing (``short``
    now); returns (segments deleted, bytes freed, bytes still missing)."""
    pool = list(streams)
    deleted = freed = 0
    while short > 0:
        spare = [(start, s) for s in pool if (start := s.oldest_spare()) is not None]
        if not spare:
            break
        oldest = min(spare, key=lambda pair: pair[0])[1]
        freed += oldest.shed_oldest()
        deleted += 1
        short = shortfall()
    return deleted, freed, short


def bytes_held(directories: Iterable[Path]) -> int:
    """The bytes of the segments in ``directories`` (the gateway's footprint)."""
    total = 0
    for directory in directories:
        for path in directory.glob("*.ts"):
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue
    return total

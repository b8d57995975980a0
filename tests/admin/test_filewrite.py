"""Replacing the inventory file atomically, only if nobody changed it meanwhile, and only once recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from broker.admin.filewrite import replace_if_unchanged, sha256
from broker.errors import AuditUnavailable, Conflict


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".sync"))


def test_replaces_keeping_the_mode_and_following_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(b"old\n")
    real.chmod(0o604)
    link = tmp_path / "inventory.yaml"
    link.symlink_to(real)
    recorded: list[bytes] = []
    replace_if_unchanged(link, b"new\n", sha256(b"old\n"), lambda: recorded.append(real.read_bytes()))
    assert recorded == [b"old\n"]  # recorded before the swap
    assert link.is_symlink() and real.read_bytes() == b"new\n" and real.stat().st_mode & 0o777 == 0o604
    assert leftovers(tmp_path) == []


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_bytes(b"school IT's edit\n")
    called: list[int] = []
    with pytest.raises(Conflict, match="changed while inventory sync ran; nothing was written: run sync again"):
        replace_if_unchanged(path, b"sync's\n", sha256(b"what sync read\n"), lambda: called.append(1))
    assert path.read_bytes() == b"school IT's edit\n" and called == [] and leftovers(tmp_path) == []


def test_no_record_no_change(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_bytes(b"old\n")
    inode = os.stat(path).st_ino

    def refuse() -> None:
        raise AuditUnavailable("the audit record could not be written")

    with pytest.raises(AuditUnavailable):
        replace_if_unchanged(path, b"new\n", sha256(b"old\n"), refuse)
    assert path.read_bytes() == b"old\n" and os.stat(path).st_ino == inode and leftovers(tmp_path) == []

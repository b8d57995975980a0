"""A throwaway PostgreSQL cluster for the rigs: its data folder on a small tmpfs, its own port on 127.0.0.1.

Made with ``initdb`` of the Debian packages (``/usr/lib/postgresql/*/bin``), run as the ``postgres`` OS user
(PostgreSQL refuses root), trust authentication on 127.0.0.1 only, no Unix socket, 1 MB WAL segments so that a
cluster fits a few tens of megabytes. Stopped (``-m immediate``) and removed with its tmpfs when done. The rigs
skip, saying why, where the binaries, the user or the mount are missing.
"""

from __future__ import annotations

import contextlib
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers import free_port
from tests.rigs.volume import Volume, tmpfs

SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "max_connections": "60",
    "shared_buffers": "16MB",
    "min_wal_size": "2MB",
    "max_wal_size": "8MB",
    "logging_collector": "off",
}


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    return found[-1].parent


class Cluster:
    def __init__(self, bindir: Path, data: Path, log: Path, port: int) -> None:
        self.bindir, self.data, self.log, self.port = bindir, data, log, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _as_postgres(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, timeout=timeout, cwd="/"
        )

    def start(self) -> None:
        options = " ".join(f"-c {k}={v}" if v else f"-c {k}=''" for k, v in SETTINGS.items())
        done = self._as_postgres(
            str(self.bindir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            f"-p {self.port} {options}",
        )
        assert done.returncode == 0, done.stdout + done.stderr + self.log_text()

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bindir / "pg_ctl"), "stop", "-w", "-D", str(self.data), "-m", mode)

    def running(self) -> bool:
        return self._as_postgres(str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)).returncode == 0

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def throwaway_cluster(size: str = "40m") -> Iterator[tuple[Cluster, Volume]]:
    """A running cluster whose data folder is the tmpfs :class:`Volume` (``size``)."""
    bindir = _bin()
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres OS user to run a PostgreSQL cluster as")
    base = Path(tempfile.mkdtemp(prefix="camgate-pg-"))  # outside pytest's root-only folders: postgres reads it
    try:
        shutil.chown(base, user.pw_uid, user.pw_gid)
        with tmpfs(base / "volume", size) as volume:
            shutil.chown(volume.path, user.pw_uid, user.pw_gid)
            cluster = Cluster(bindir, volume.path / "pgdata", base / "postgres.log", free_port())
            made = cluster._as_postgres(
                str(bindir / "initdb"),
                "-D",
                str(cluster.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--wal-segsize=1",
                "--no-instructions",
            )
            assert made.returncode == 0, made.stdout + made.stderr
            cluster.start()
            try:
                yield cluster, volume
            finally:
                cluster.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)

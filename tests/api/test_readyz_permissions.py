"""The broker's files are owner-only from their creation, and ``/readyz`` warns where they are not (issue 13
item 16: the SQLite database and its WAL were ``-rw-r--r--`` in a 0755 folder, under the default umask)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from tests.api.support import Api

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_folder_database_wal_shm_and_keys_are_created_owner_only(tmp_path: Path, make_api: MakeApi) -> None:
    old = os.umask(0o022)  # the usual umask: files 0644 and folders 0755 unless camgate asks otherwise
    try:
        with make_api(store={"url": None}) as api:  # the default: sqlite in <data_dir>/camgate.db
            assert api.get("/api/v1/cameras").status_code == 200
            ready = api.client.get("/readyz")
            data = api.data_dir
            files = [data / name for name in ("camgate.db", "camgate.db-wal", "camgate.db-shm")]
            files += [p for p in data.iterdir() if p.is_file()]  # the dev issuer key, dev secrets, the audit key
            assert mode(data) == 0o700
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
            assert {"dev-issuer-key.json", "camgate.db-wal"} <= {p.name for p in files}
    finally:
        os.umask(old)
    assert ready.status_code == 200 and ready.json()["warnings"] == []


def test_a_database_elsewhere_gets_its_own_folder_0700(tmp_path: Path, make_api: MakeApi) -> None:
    database = tmp_path / "db" / "nested" / "camgate.db"
    with make_api(store={"url": f"sqlite:///{database}"}) as api:
        assert api.client.get("/readyz").json()["warnings"] == []
    assert mode(database.parent) == 0o700 and mode(database.parent.parent) == 0o700 and mode(database) == 0o600


def test_readyz_warns_where_files_are_looser_and_stays_ready(make_api: MakeApi) -> None:
    with make_api(store={"url": None}) as api:
        data = api.data_dir
        data.chmod(0o755)
        (data / "camgate.db").chmod(0o644)
        (data / "dev-issuer-key.json").chmod(0o640)
        r = api.client.get("/readyz")
        assert r.status_code == 200 and r.json()["status"] == "ready"
        assert sorted(r.json()["warnings"]) == sorted(
            [
                f"{data.absolute()} is mode 0755, open to other users: chmod 700 {data.absolute()}",
                f"{data.absolute() / 'camgate.db'} is mode 0644, open to other users: chmod 600 "
                f"{data.absolute() / 'camgate.db'}",
                f"{data.absolute() / 'dev-issuer-key.json'} is mode 0640, open to other users: chmod 600 "
                f"{data.absolute() / 'dev-issuer-key.json'}",
            ]
        )

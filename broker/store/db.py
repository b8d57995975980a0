"""Opening the database: SQLite (embedded default) or PostgreSQL (several replicas share one).

SQLite runs in WAL mode with a busy timeout and foreign keys on; camgate emits BEGIN itself (the
``sqlite3`` module's own transaction handling is disabled) so that writers can take the write lock up
front with ``BEGIN IMMEDIATE`` (:meth:`Store.begin_write`) and readers get a stable snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from broker.errors import ConfigError, StoreUnavailable
from broker.private import private_file
from broker.store import migrate, tables

SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_CONNECT_TIMEOUT_S = 5
PG_LOCK_TIMEOUT_MS = 10_000  # a stuck lock holder makes writers fail (and deny) instead of hang
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CREATE_LOCK_KEY = 0x63616D67  # pg advisory lock serialising create_all across replicas ("camg")
_IMMEDIATE = "camgate_begin_immediate"


def describe_url(url: URL) -> str:
    """The URL without user name or password, for messages and logs."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{url.database or ':memory:'}"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()}://{url.host or 'localhost'}{port}/{url.database or ''}"


def driver_problem(exc: BaseException, url: URL | None = None) -> str:
    """The first line of the driver's message, with the password blanked if it ever appears."""
    orig = getattr(exc, "orig", None) or exc
    line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if url is not None and url.password:
        line = line.replace(str(url.password), "***")
    return f"{type(orig).__name__}: {line}"


class Store:
    """A database engine plus the few things every repository needs."""

    def __init__(self, engine: Engine, *, url: URL, schema: str | None = None) -> None:
        self._engine = engine
        self._url = url
        self.schema = schema

    # -- opening -----------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, schema: str | None = None, must_exist: bool = False) -> Store:
        """``must_exist``: create nothing (no SQLite file or folder, no PostgreSQL schema); a store that is not
        there is a ConfigError naming it (readers such as ``camgate audit verify``)."""
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError("database URL is not a valid URL", field="database_url") from exc
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            if schema is not None:
                raise ConfigError("schema is only supported on PostgreSQL", field="database_schema")
            if must_exist:
                _sqlite_must_exist(parsed)
            engine = _sqlite_engine(parsed)
        elif backend == "postgresql":
            if parsed.get_driver_name() != "psycopg":
                raise ConfigError("use the postgresql+psycopg:// driver", field="database_url")
            engine = _postgres_engine(parsed, schema)
        else:
            raise ConfigError(f"unsupported database backend {backend!r}", field="database_url")
        store = cls(engine, url=parsed, schema=schema)
        try:
            with engine.begin() as conn:
                if schema is not None and must_exist:
                    found = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
                    if found is None:
                        raise ConfigError(f"no schema {schema!r} in {describe_url(parsed)}", field="store.schema")
                elif schema is not None:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CREATE_LOCK_KEY})
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                else:
                    conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            engine.dispose()
            raise store.unavailable("connection to", exc) from exc
        except ConfigError:
            engine.dispose()
            raise
        return store

    # -- properties --------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect_name(self) -> str:
        return self._engine.dialect.name

    @property
    def description(self) -> str:
        return describe_url(self._url)

    def unavailable(self, doing: str, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"database {doing} {self.description} failed ({driver_problem(exc, self._url)})")

    # -- transactions ------------------------------------------------------------------------------

    @property
    def database_path(self) -> Path | None:
        """The SQLite database file (None: PostgreSQL or in memory)."""
        if self.dialect_name != "sqlite":
            return None
        database = self._url.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(self._url):
            return None
        return Path(database.removeprefix("file:").split("?")[0]).expanduser()

    @contextmanager
    def begin_write(self, lock_timeout: float | None = None) -> Iterator[Connection]:
        """A transaction that writes: ``BEGIN IMMEDIATE`` on SQLite (write lock taken up front).

        ``lock_timeout``: wait at most this long (seconds) for another writer's lock, then fail, instead of the
        connection's default (SQLite busy timeout, PostgreSQL ``lock_timeout``): a held lock must make the
        audit refuse within a second, not hang every request behind it.
        """
        with self._engine.connect() as conn:
            sqlite = self.dialect_name == "sqlite"
            ms = None if lock_timeout is None else max(1, int(lock_timeout * 1000))
            raw = conn.connection.driver_connection if sqlite and ms is not None else None
            if raw is not None:  # on the driver: no statement through SQLAlchemy before BEGIN (it would autobegin)
                raw.execute(f"PRAGMA busy_timeout={ms}")
            if sqlite:
                conn = conn.execution_options(**{_IMMEDIATE: True})
            try:
                with conn.begin():
                    if ms is not None and not sqlite:
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
                    yield conn
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    @contextmanager
    def begin_probe(self) -> Iterator[Connection]:
        """Like :meth:`begin_write`, but always rolled back: to find out whether a write would succeed."""
        with self._engine.connect() as conn:
            if self.dialect_name == "sqlite":
                conn = conn.execution_options(**{_IMMEDIATE: True})
            trans = conn.begin()
            try:
                yield conn
            finally:
                trans.rollback()

    @contextmanager
    def begin_read(self) -> Iterator[Connection]:
        """A read transaction seeing one consistent snapshot (REPEATABLE READ on PostgreSQL)."""
        with self._engine.connect() as conn:
            if self.dialect_name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    # -- lifecycle ---------------------------------------------------------------------------------

    def create_all(self) -> None:
        """Create missing tables and their fixed rows; safe to run again and from several replicas."""
        try:
            with self.begin_write() as conn:
                if self.dialect_name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CREATE_LOCK_KEY})
                tables.metadata.create_all(conn, checkfirst=True)
                migrate.upgrade(conn)  # columns added since the database was created
                tables.seed_rows(conn)
        except SQLAlchemyError as exc:
            raise self.unavailable("set-up of", exc) from exc

    def ping(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.description!r})"


def _sqlite_must_exist(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(url):
        raise ConfigError("an in-memory SQLite database holds nothing to read", field="store.url")
    path = Path(database.removeprefix("file:").split("?")[0]).expanduser()
    if not path.is_file():
        raise ConfigError(f"no database at {path.resolve()}: nothing was created", field="store.url")


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    is_uri = str(url.query.get("uri", "")).lower() in ("true", "1")
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    }
    if in_memory and not is_uri:
        kwargs["poolclass"] = StaticPool  # one shared connection, else each would get its own database
    elif not is_uri:  # 0600 before SQLite opens it: its -wal and -shm take the same mode (broker.private)
        private_file(Path(database).expanduser())
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # camgate emits BEGIN itself (see module docstring)
        cur = dbapi_conn.cursor()
        try:
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            # FULL: a committed audit record survives power loss (the log is evidence).
            cur.execute("PRAGMA synchronous=FULL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: URL, schema: str | None) -> Engine:
    options = [f"-c lock_timeout={PG_LOCK_TIMEOUT_MS}"]
    if schema is not None:
        if not _SCHEMA_NAME.match(schema):
            raise ConfigError("schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*)", field="database_schema")
        options.append(f"-c search_path={schema}")
    if "options" in url.query:  # keep options given in the URL (e.g. a search_path)
        given = url.query["options"]
        options.insert(0, given if isinstance(given, str) else " ".join(given))
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S, "options": " ".join(options)}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)

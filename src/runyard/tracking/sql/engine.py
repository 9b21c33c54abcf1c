"""Engine creation for the SQL tracking store: which URLs are accepted and how each
database is set up.

- SQLite: WAL journal (readers never wait for the writer), ``synchronous=NORMAL`` (a commit
  survives the process dying; only a power cut can lose the last commits), foreign keys on,
  a busy timeout, and write transactions opened with ``BEGIN IMMEDIATE`` so that concurrent
  writers queue on the database lock instead of failing half-way with "database is locked".
- PostgreSQL: psycopg 3; ``postgresql://`` and ``postgres://`` URLs are mapped to
  ``postgresql+psycopg://``. Query parameters go to libpq (e.g. ``?options=-csearch_path%3Dx``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, pool
from sqlalchemy.engine import URL, Engine, make_url

from runyard.errors import InvalidArgument, missing_extra

SUPPORTED = "sqlite (sqlite:///path/to/runyard.db) and postgresql (postgresql://user@host/db)"

# Execution option that makes a connection open its transaction with BEGIN IMMEDIATE.
WRITE_OPTION = "runyard_write"

_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The SQLAlchemy URL of the SQLite database file at ``path``."""
    return f"sqlite:///{os.path.abspath(os.fspath(path))}"


def normalize_url(url: str | URL) -> URL:
    """Parse ``url`` and pick the driver Runyard uses for its database.

    Raises:
        InvalidArgument: the URL cannot be parsed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InvalidArgument(
            f"{url!r} is not a database URL. Supported databases: {SUPPORTED}."
        ) from exc
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise InvalidArgument(
            f"Database URL {parsed.render_as_string(hide_password=True)!r} names "
            f"{parsed.drivername!r}, which Runyard does not support. "
            f"Supported databases: {SUPPORTED}."
        )
    return parsed.set(drivername=driver)


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: URL, *, busy_timeout_s: float) -> Engine:
    """An engine for a normalized ``url`` (see :func:`normalize_url`)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    try:
        import psycopg  # noqa: F401 - only to give the install hint early
    except ImportError as exc:
        raise missing_extra("psycopg", "postgres") from exc
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    options: dict[str, Any] = {
        "connect_args": {"timeout": busy_timeout_s, "check_same_thread": False},
    }
    if is_memory_sqlite(url):
        # One shared connection, or every connection would see its own empty database;
        # the store serializes its use.
        options["poolclass"] = pool.StaticPool
    engine = sa.create_engine(url, **options)
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite (it would BEGIN DEFERRED on its own
        # and commit before DDL); the "begin" hook below emits the right BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            _switch_to_wal(cursor, busy_timeout_s)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def _switch_to_wal(cursor: Any, busy_timeout_s: float) -> None:
    """Put the database in WAL mode, unless it is (or is in memory).

    Switching needs the database to itself, and SQLite answers "database is locked" at once,
    without waiting, when another connection is switching too (its deadlock rule): several
    processes opening a brand-new database together meet exactly that. So look again,
    and retry, until the busy timeout.
    """
    deadline = time.monotonic() + busy_timeout_s
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        try:
            # SQLite keeps the mode it can give: where WAL is impossible (no shared memory),
            # the old one, which still works.
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + (os.getpid() % 7) * 0.006)  # racers do not retry in step

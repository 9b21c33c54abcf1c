"""One database of the SQL tracking store: short transactions, and the translation of
SQLAlchemy's errors into Runyard's at this boundary."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from runyard.errors import AlreadyExists, BackendError, InvalidArgument, RunyardError
from runyard.tracking.sql.engine import (
    WRITE_OPTION,
    create_engine,
    is_memory_sqlite,
    normalize_url,
)
from runyard.tracking.sql.sqlite_file import check_sqlite_file


class Database:
    """An engine with a connection (and a transaction) per operation.

    Args:
        url: SQLAlchemy URL of a SQLite or PostgreSQL database.
        busy_timeout_s: how long a SQLite writer waits for another one before failing.

    Raises:
        InvalidArgument: unsupported or malformed URL.
        MissingDependency: PostgreSQL URL without psycopg installed.
        BackendError: a workspace's SQLite file is empty (truncated).
    """

    def __init__(self, url: str | URL, *, busy_timeout_s: float) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        self.busy_timeout_s = busy_timeout_s
        if self.dialect == "sqlite":
            check_sqlite_file(self.url)
        self.engine = create_engine(self.url, busy_timeout_s=busy_timeout_s)
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        # An in-memory SQLite database is one shared connection: one operation at a time.
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if is_memory_sqlite(self.url) else contextlib.nullcontext()
        )

    def describe(self) -> str:
        """The database in words, password left out, for messages."""
        if self.dialect == "sqlite":
            return f"SQLite database {self.url.database or ':memory:'}"
        where = f"{self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database}"
        return f"PostgreSQL database at {where}"

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection in a read transaction (a consistent snapshot of several queries)."""
        with self._lock, self.translate_errors(), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction, committed when the block ends.

        On SQLite the transaction holds the database's write lock from its first statement
        (``BEGIN IMMEDIATE``), so read-then-write sequences cannot interleave.
        """
        with self._lock, self.translate_errors(), self._write_engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn SQLAlchemy and driver errors into Runyard's (``raise ... from``)."""
        try:
            yield
        except RunyardError:
            raise
        except Exception as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc

    def _translate(self, exc: Exception) -> RunyardError | None:
        driver_error = getattr(self.engine.dialect.loaded_dbapi, "Error", None)
        if driver_error is not None and isinstance(exc, driver_error):
            # Raised by driver-level calls (PostgreSQL COPY): wrap it as SQLAlchemy would.
            exc = sa.exc.DBAPIError.instance(None, None, exc, driver_error)
        if isinstance(exc, sa.exc.IntegrityError):
            if _is_unique_violation(exc):
                return AlreadyExists(
                    f"The change conflicts with a record that exists in the "
                    f"{self.describe()}: {_reason(exc)}"
                )
            return InvalidArgument(f"The {self.describe()} refused the change: {_reason(exc)}")
        if isinstance(exc, sa.exc.OperationalError):
            return BackendError(self._operational_message(exc))
        if isinstance(exc, sa.exc.SQLAlchemyError):
            return BackendError(f"The {self.describe()} failed: {_reason(exc)}")
        return None

    def _operational_message(self, exc: sa.exc.OperationalError) -> str:
        reason = _reason(exc)
        if self.dialect == "sqlite":
            if "locked" in reason or "busy" in reason:
                return (
                    f"The {self.describe()} stayed locked by another writer for more than "
                    f"{self.busy_timeout_s:g} s ({reason}). Retry, or give writers longer with "
                    "RUNYARD_SQLITE_BUSY_TIMEOUT_S (seconds)."
                )
            return (
                f"Cannot use the {self.describe()}: {reason}. Check that its folder exists and "
                "is writable, and that the file is a Runyard database."
            )
        return (
            f"Cannot use the {self.describe()}: {reason}. Check that the server is running "
            "and reachable, and that the URL's user, password and database are right."
        )

    def close(self) -> None:
        self.engine.dispose()


def dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    """An INSERT construct with ``on_conflict_do_nothing/update`` for ``conn``'s database."""
    # Imported here: a SQLite workspace never pays for importing the PostgreSQL dialect.
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    # PostgreSQL's SQLSTATE 23505; SQLite only says it in words.
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint" in str(exc.orig)


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    origin = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    text = " ".join(str(origin).split())
    return text if len(text) <= 300 else text[:297] + "..."

"""Schema migrations of the SQL tracking store (Alembic, run from code: no alembic.ini).

:func:`upgrade_to_head` is called when a store opens. Opening a database that is already
at :data:`HEAD` costs two small queries and never imports Alembic. A brand-new or older
database is migrated inside one write transaction that holds the database's write lock
(SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock): when several processes open it at
once, one migrates and the others wait, see the new revision and go on.

Adding a migration: put ``NNNN_what.py`` in ``versions/`` (``down_revision`` = the previous
head), update :data:`HEAD` and ``tables.py``; the contract tests check all three agree.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from runyard.errors import BackendError
from runyard.tracking.sql.database import Database

#: The newest revision in ``versions/`` (checked against Alembic's view by a test).
HEAD = "0008_run_params"

SCRIPT_LOCATION = str(Path(__file__).resolve().parent)

# pg_advisory_xact_lock key that serializes migrations ("RUNY").
_PG_LOCK_KEY = 0x52554E59


def current_revision(conn: sa.Connection) -> str | None:
    """The database's schema revision, None when it has no schema yet."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return None if revision is None else str(revision)


def upgrade_to_head(db: Database) -> None:
    """Bring ``db``'s schema to :data:`HEAD`.

    Raises:
        BackendError: the database cannot be reached, or its schema is newer than this
            version of Runyard knows.
    """
    with db.read() as conn:
        if current_revision(conn) == HEAD:
            return
    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        revision = current_revision(conn)
        if revision == HEAD:  # another process migrated while we waited for the lock
            return
        _run_alembic(db, conn, revision)


def _run_alembic(db: Database, conn: sa.Connection, revision: str | None) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # env.py runs the migrations on this connection, inside our transaction.
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, "head")
    except CommandError as exc:
        raise BackendError(
            f"The {db.describe()} has schema revision {revision!r}, which this version of "
            f"Runyard does not know (its newest is {HEAD!r}): it was written by a newer "
            f"Runyard. Upgrade Runyard to open it. ({exc})"
        ) from exc

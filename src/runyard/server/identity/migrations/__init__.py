"""Schema migrations of the identity store (Alembic, run from code: no alembic.ini).

Same scheme as the tracking store's (``runyard.tracking.sql.migrations``): a database at
:data:`HEAD` opens with one small query and no Alembic import; an older one is migrated in
one write transaction that holds the database's write lock, so servers starting together
migrate once.

Adding a migration: put ``NNNN_what.py`` in ``versions/`` and update :data:`HEAD` and
``tables.py``; a test checks that the migrated schema and ``tables.py`` agree.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from runyard.errors import BackendError
from runyard.server.identity.tables import VERSION_TABLE
from runyard.tracking.sql.database import Database

#: The newest revision in ``versions/``.
HEAD = "0001"

SCRIPT_LOCATION = str(Path(__file__).resolve().parent)

# pg_advisory_xact_lock key that serializes identity migrations ("RYID").
_PG_LOCK_KEY = 0x52594944


def current_revision(conn: sa.Connection) -> str | None:
    """The identity schema's revision, None when the database has none yet."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    revision = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
    return None if revision is None else str(revision)


def upgrade_to_head(db: Database) -> None:
    """Bring ``db``'s identity schema to :data:`HEAD`.

    Raises:
        BackendError: the database cannot be reached, or its identity schema is newer than
            this version of Runyard knows.
    """
    with db.read() as conn:
        if current_revision(conn) == HEAD:
            return
    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        revision = current_revision(conn)
        if revision == HEAD:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise BackendError(
                f"The {db.describe()} has identity schema revision {revision!r}, which this "
                f"version of Runyard does not know (its newest is {HEAD!r}). Upgrade Runyard "
                f"to serve it. ({exc})"
            ) from exc

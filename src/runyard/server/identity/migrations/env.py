"""Alembic environment of the server's identity store.

Runyard runs it from code (``migrations.upgrade_to_head``) with the connection to use in
``config.attributes["connection"]``, already inside a transaction that Runyard commits.
The revision is kept in its own version table, so the identity schema can live in a
PostgreSQL database that also holds a workspace.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from runyard.server.identity.tables import VERSION_TABLE, metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("The identity migrations run from code: set attributes['connection'].")
_run(_connection)

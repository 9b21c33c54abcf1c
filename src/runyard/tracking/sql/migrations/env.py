"""Alembic environment of the SQL tracking store.

Runyard runs it from code (``migrations.upgrade_to_head``) with the connection to use in
``config.attributes["connection"]``, already inside a transaction that Runyard commits.
For development (``alembic revision --autogenerate``), a ``sqlalchemy.url`` main option
works too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from runyard.tracking.sql.tables import metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    _url = context.config.get_main_option("sqlalchemy.url")
    if not _url:
        raise RuntimeError("Set config.attributes['connection'] or sqlalchemy.url.")
    _engine = sa.create_engine(_url)
    try:
        with _engine.begin() as _conn:
            _run(_conn)
    finally:
        _engine.dispose()

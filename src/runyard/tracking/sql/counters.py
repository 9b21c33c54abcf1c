"""Version counters (model versions, environment versions): one row per name, changed in
the transaction that uses the number, so numbers have no gaps or duplicates and are never
handed out twice, even after the versions they numbered are deleted."""

from __future__ import annotations

import sqlalchemy as sa

from runyard.tracking.sql.database import dialect_insert
from runyard.tracking.sql.tables import counters


def next_value(conn: sa.Connection, scope: str, name: str, *, by: int = 1) -> int:
    """Add ``by`` to the counter (0 the first time) and return its new value; the row stays
    locked until the transaction ends, so concurrent callers queue."""
    statement = (
        dialect_insert(conn, counters)
        .values(scope=scope, name=name, value=by)
        .on_conflict_do_update(
            index_elements=["scope", "name"], set_={"value": counters.c.value + by}
        )
        .returning(counters.c.value)
    )
    return int(conn.execute(statement).scalar_one())


def lock(conn: sa.Connection, scope: str, name: str) -> int:
    """Lock the counter until the transaction ends and return its value (0 if new)."""
    conn.execute(
        dialect_insert(conn, counters)
        .values(scope=scope, name=name, value=0)
        .on_conflict_do_nothing(index_elements=["scope", "name"])
    )
    value = conn.execute(
        sa.select(counters.c.value)
        .where(counters.c.scope == scope, counters.c.name == name)
        .with_for_update()
    ).scalar_one()
    return int(value)


def store(conn: sa.Connection, scope: str, name: str, value: int) -> None:
    """Set a counter locked with :func:`lock`."""
    conn.execute(
        sa.update(counters)
        .where(counters.c.scope == scope, counters.c.name == name)
        .values(value=value)
    )

"""Tags and properties of runs and models: rows of (owner key, name, value).

Shared by ``runs.py`` and ``models.py``; the owner row is locked by the caller
(``SELECT ... FOR UPDATE``) before any read-then-write here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from runyard.errors import InvalidState

# Bound parameters per IN (...) query: well under SQLite's and PostgreSQL's limits.
_CHUNK = 500


def load(conn: sa.Connection, table: sa.Table, owners: Sequence[int]) -> dict[int, dict[str, str]]:
    """The name -> value mapping of each owner key (owners without rows map to ``{}``)."""
    found: dict[int, dict[str, str]] = {owner: {} for owner in owners}
    for start in range(0, len(owners), _CHUNK):
        chunk = owners[start : start + _CHUNK]
        rows = conn.execute(
            sa.select(table.c.owner_id, table.c.name, table.c.value)
            .where(table.c.owner_id.in_(chunk))
            .order_by(table.c.owner_id, table.c.name)
        )
        for owner, name, value in rows:
            found[owner][name] = value
    return found


def put(conn: sa.Connection, table: sa.Table, owner: int, values: Mapping[str, str]) -> None:
    """Set names to values, replacing the values of names already set."""
    if not values:
        return
    conn.execute(sa.delete(table).where(table.c.owner_id == owner, table.c.name.in_(list(values))))
    conn.execute(
        sa.insert(table),
        [{"owner_id": owner, "name": name, "value": value} for name, value in values.items()],
    )


def remove(conn: sa.Connection, table: sa.Table, owner: int, names: Iterable[str]) -> None:
    """Remove names; names that are not set are ignored."""
    names = list(names)
    if names:
        conn.execute(sa.delete(table).where(table.c.owner_id == owner, table.c.name.in_(names)))


def add_once(
    conn: sa.Connection,
    table: sa.Table,
    owner: int,
    values: Mapping[str, str],
    *,
    what: str,
) -> None:
    """Add write-once values (properties): a name set to the same value is fine.

    Raises:
        InvalidState: a name is set already to another value (nothing is written).
    """
    if not values:
        return
    existing = dict(
        conn.execute(
            sa.select(table.c.name, table.c.value).where(
                table.c.owner_id == owner, table.c.name.in_(list(values))
            )
        ).all()
    )
    for name, value in values.items():
        if name in existing and existing[name] != value:
            raise InvalidState(
                f"Property {name!r} of {what} is {existing[name]!r}; it cannot change to "
                f"{value!r}. Properties are set once; use a tag for a value that changes."
            )
    new = {name: value for name, value in values.items() if name not in existing}
    if new:
        conn.execute(
            sa.insert(table),
            [{"owner_id": owner, "name": name, "value": value} for name, value in new.items()],
        )


def matches(
    table: sa.Table, owner_key: sa.ColumnElement[int], wanted: Mapping[str, str | None]
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses: the owner has each name, with the given value unless it is None."""
    clauses: list[sa.ColumnElement[bool]] = []
    for name, value in wanted.items():
        condition = sa.and_(table.c.owner_id == owner_key, table.c.name == name)
        if value is not None:
            condition = sa.and_(condition, table.c.value == value)
        clauses.append(sa.exists().where(condition))
    return clauses

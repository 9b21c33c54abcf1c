"""Tags and properties of runs and models: rows of (owner key, name, value).

One :class:`KeyValues` per table, built once with its statements (building a SQLAlchemy
statement costs more than running it on SQLite). The owner row is locked by the caller
(``SELECT ... FOR UPDATE``) before any read-then-write here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from runyard.tracking import messages

# Bound parameters per IN (...) query: well under SQLite's and PostgreSQL's limits.
_CHUNK = 500


class KeyValues:
    """The statements on one tag or property table."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        owner, name = table.c.owner_id, table.c.name
        self._load = (
            sa.select(owner, name, table.c.value)
            .where(owner.in_(sa.bindparam("owners", expanding=True)))
            .order_by(owner, name)
        )
        self._some = sa.select(name, table.c.value).where(
            owner == sa.bindparam("owner"), name.in_(sa.bindparam("names", expanding=True))
        )
        self._delete = sa.delete(table).where(
            owner == sa.bindparam("owner"), name.in_(sa.bindparam("names", expanding=True))
        )
        self._insert = sa.insert(table)

    def load(self, conn: sa.Connection, owners: Sequence[int]) -> dict[int, dict[str, str]]:
        """The name -> value mapping of each owner key (owners without rows map to ``{}``)."""
        found: dict[int, dict[str, str]] = {owner: {} for owner in owners}
        for start in range(0, len(owners), _CHUNK):
            rows = conn.execute(self._load, {"owners": list(owners[start : start + _CHUNK])})
            for owner, name, value in rows:
                found[owner][name] = value
        return found

    def put(self, conn: sa.Connection, owner: int, values: Mapping[str, str]) -> None:
        """Set names to values, replacing the values of names already set."""
        if not values:
            return
        conn.execute(self._delete, {"owner": owner, "names": list(values)})
        self._add(conn, owner, values)

    def remove(self, conn: sa.Connection, owner: int, names: Iterable[str]) -> None:
        """Remove names; names that are not set are ignored."""
        names = list(names)
        if names:
            conn.execute(self._delete, {"owner": owner, "names": names})

    def add_once(
        self, conn: sa.Connection, owner: int, values: Mapping[str, str], *, what: str
    ) -> None:
        """Add write-once values (properties): a name set to the same value is fine.

        Raises:
            InvalidState: a name is set already to another value (nothing is written).
        """
        if not values:
            return
        existing = dict(conn.execute(self._some, {"owner": owner, "names": list(values)}).all())
        for name, value in values.items():
            if name in existing and existing[name] != value:
                raise messages.property_set(name, what, existing[name], value)
        self._add(conn, owner, {n: v for n, v in values.items() if n not in existing})

    def _add(self, conn: sa.Connection, owner: int, values: Mapping[str, str]) -> None:
        if values:
            conn.execute(
                self._insert,
                [
                    {"owner_id": owner, "name": name, "value": value}
                    for name, value in values.items()
                ],
            )

    def matches(
        self, owner_key: sa.ColumnElement[int], wanted: Mapping[str, str | None]
    ) -> list[sa.ColumnElement[bool]]:
        """WHERE clauses: the owner has each name, with the given value unless it is None."""
        table = self.table
        clauses: list[sa.ColumnElement[bool]] = []
        for name, value in wanted.items():
            condition = sa.and_(table.c.owner_id == owner_key, table.c.name == name)
            if value is not None:
                condition = sa.and_(condition, table.c.value == value)
            clauses.append(sa.exists().where(condition))
        return clauses

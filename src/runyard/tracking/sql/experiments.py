"""Experiments, and the counter that numbers their runs."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from runyard.entities import ExperimentRecord
from runyard.errors import NotFound
from runyard.tracking import messages
from runyard.tracking.sql.database import dialect_insert
from runyard.tracking.sql.tables import experiments

_FIND = sa.select(experiments).where(experiments.c.name == sa.bindparam("b_name"))
_NEXT_NUMBER = (
    sa.update(experiments)
    .where(experiments.c.name == sa.bindparam("b_name"))
    .values(run_count=experiments.c.run_count + 1)
    .returning(experiments.c.id, experiments.c.run_count)
)


def _record(row: sa.Row[Any]) -> ExperimentRecord:
    return ExperimentRecord(
        experiment_id=row.id, name=row.name, created_at=row.created_at, run_count=row.run_count
    )


def create(conn: sa.Connection, name: str) -> ExperimentRecord:
    """Get or create; when several processes race, one inserts and all get that row."""
    conn.execute(
        dialect_insert(conn, experiments)
        .values(name=name, created_at=time.time(), run_count=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return get(conn, name)


def find(conn: sa.Connection, name: str) -> ExperimentRecord | None:
    row = conn.execute(_FIND, {"b_name": name}).one_or_none()
    return None if row is None else _record(row)


def get(conn: sa.Connection, name: str) -> ExperimentRecord:
    found = find(conn, name)
    if found is None:
        raise not_found(conn, name)
    return found


def list_all(conn: sa.Connection) -> list[ExperimentRecord]:
    rows = conn.execute(sa.select(experiments).order_by(experiments.c.id))
    return [_record(row) for row in rows]


def next_run_number(conn: sa.Connection, name: str) -> tuple[int, int]:
    """Allocate the next run number of experiment ``name``: ``(experiment id, number)``.

    The increment and the read are one statement on the experiment's row, which stays
    locked until the transaction ends: no gaps, no duplicates.
    """
    row = conn.execute(_NEXT_NUMBER, {"b_name": name}).one_or_none()
    if row is None:
        raise not_found(conn, name)
    return row.id, row.run_count


def not_found(conn: sa.Connection, name: str) -> NotFound:
    known = conn.execute(
        sa.select(experiments.c.name).order_by(experiments.c.name).limit(messages.LISTED + 1)
    )
    return messages.experiment_not_found(name, [row.name for row in known])

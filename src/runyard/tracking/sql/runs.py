"""Runs: creation with the next run number, status changes (compare-and-set), details,
tags and properties."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from runyard.entities import (
    TERMINAL_STATUSES,
    RunPage,
    RunRecord,
    RunStatus,
    StatusChange,
    can_transition,
)
from runyard.entities.run import allowed_transitions
from runyard.errors import NotFound
from runyard.tracking import documents, messages, paging
from runyard.tracking.run_params import param_number, params_of
from runyard.tracking.sql import experiments
from runyard.tracking.sql.keyvalues import KeyValues
from runyard.tracking.sql.tables import experiments as experiments_table
from runyard.tracking.sql.tables import (
    run_params,
    run_properties,
    run_status_changes,
    run_tags,
    runs,
)

TAGS = KeyValues(run_tags)
PROPERTIES = KeyValues(run_properties)

# Statements built once: building one costs more than running it on SQLite.
_SELECT = sa.select(
    runs,
    experiments_table.c.name.label("experiment_name"),
).join(experiments_table, experiments_table.c.id == runs.c.experiment_id)
_KEY = sa.select(runs.c.id).where(runs.c.run_id == sa.bindparam("b_run_id"))
_KEY_LOCKED = _KEY.with_for_update()
_INSERT = sa.insert(runs).returning(runs.c.id)
_STATUS = (
    sa.select(runs.c.id, runs.c.status, runs.c.started_at)
    .where(runs.c.run_id == sa.bindparam("b_run_id"))
    .with_for_update()
)
_DETAILS = (
    sa.select(runs.c.id, runs.c.experiment_id, runs.c.details)
    .where(runs.c.run_id == sa.bindparam("b_run_id"))
    .with_for_update()
)
# SET takes the columns named in the parameters.
_UPDATE = sa.update(runs).where(runs.c.id == sa.bindparam("b_key"))
_RECORD_CHANGE = sa.insert(run_status_changes)
_HISTORY = (
    sa.select(run_status_changes.c.status, run_status_changes.c.at)
    .where(run_status_changes.c.run_key == sa.bindparam("b_key"))
    .order_by(run_status_changes.c.id)
)


def create(
    conn: sa.Connection,
    experiment_name: str,
    *,
    run_id: str,
    status: RunStatus,
    display_name: str | None,
    parent_run_id: str | None,
    run_type: str,
    target: str | None,
    tags: dict[str, str] | None,
    properties: dict[str, str] | None,
    details: dict[str, Any] | None,
) -> RunRecord:
    """Insert a run with the experiment's next number (see ``TrackingStore.create_run``)."""
    if parent_run_id is not None and key_of(conn, parent_run_id, lock=False) is None:
        raise messages.parent_not_found(parent_run_id)
    experiment_id, number = experiments.next_run_number(conn, experiment_name)
    status = RunStatus(status)
    now = time.time()
    record = RunRecord(
        run_id=run_id,
        experiment_name=experiment_name,
        number=number,
        status=status,
        display_name=display_name if display_name is not None else run_id,
        created_at=now,
        parent_run_id=parent_run_id,
        run_type=run_type,
        target=target,
        started_at=now if status is RunStatus.RUNNING else None,
        ended_at=now if status in TERMINAL_STATUSES else None,
        tags=dict(tags or {}),
        properties=dict(properties or {}),
        details=dict(details or {}),
    )
    values: dict[str, Any] = {
        "run_id": run_id,
        "experiment_id": experiment_id,
        "number": number,
        "status": status.value,
        "display_name": record.display_name,
        "parent_run_id": parent_run_id,
        "run_type": run_type,
        "target": target,
        "created_at": now,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "details": documents.dumps(record.details, "Run details"),
    }
    try:
        key = conn.execute(_INSERT, values).scalar_one()
    except sa.exc.IntegrityError as exc:
        raise messages.run_id_taken(run_id) from exc
    conn.execute(_RECORD_CHANGE, {"run_key": key, "status": status.value, "at": now})
    TAGS.put(conn, key, record.tags)
    PROPERTIES.add_once(conn, key, record.properties, what=f"run {run_id}")
    if record.details:
        _write_params(conn, key, experiment_id, record.details, replace=False)
    return record


def _write_params(
    conn: sa.Connection, key: int, experiment_id: int, details: dict[str, Any], *, replace: bool
) -> None:
    """Keep ``run_params`` equal to the parameters of the run's ``details`` (run search
    orders and filters on them in SQL)."""
    if replace:
        conn.execute(sa.delete(run_params).where(run_params.c.run_key == key))
    rows = [
        {
            "run_key": key,
            "name": name,
            "experiment_id": experiment_id,
            "value": value,
            "number": param_number(value),
        }
        for name, value in params_of(details).items()
        if len(name) <= 255  # the column's width: a longer name is shown, not searchable
    ]
    if rows:
        conn.execute(sa.insert(run_params), rows)


def key_of(conn: sa.Connection, run_id: str, *, lock: bool) -> int | None:
    """The run's row key (locked until the transaction ends when ``lock``), or None."""
    found = conn.execute(_KEY_LOCKED if lock else _KEY, {"b_run_id": run_id}).scalar_one_or_none()
    return None if found is None else int(found)


def require_key(conn: sa.Connection, run_id: str, *, lock: bool) -> int:
    key = key_of(conn, run_id, lock=lock)
    if key is None:
        raise not_found(run_id)
    return key


def not_found(run_id: str) -> NotFound:
    return messages.run_not_found(run_id)


def _records(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[RunRecord]:
    keys = [row.id for row in rows]
    tags = TAGS.load(conn, keys)
    properties = PROPERTIES.load(conn, keys)
    return [_record(row, tags[row.id], properties[row.id]) for row in rows]


def _record(row: sa.Row[Any], tags: dict[str, str], properties: dict[str, str]) -> RunRecord:
    return RunRecord(
        run_id=row.run_id,
        experiment_name=row.experiment_name,
        number=row.number,
        status=RunStatus(row.status),
        display_name=row.display_name,
        created_at=row.created_at,
        parent_run_id=row.parent_run_id,
        run_type=row.run_type,
        target=row.target,
        started_at=row.started_at,
        ended_at=row.ended_at,
        heartbeat_at=row.heartbeat_at,
        error=documents.loads(row.error),
        tags=tags,
        properties=properties,
        details=documents.loads(row.details),
    )


def by_keys(conn: sa.Connection, keys: Sequence[int]) -> list[RunRecord]:
    """The runs with these row keys, in the order given (each key must exist)."""
    rows = conn.execute(_SELECT.where(runs.c.id.in_(list(keys)))).all()
    by_key = {row.id: row for row in rows}
    return _records(conn, [by_key[key] for key in keys])


# One run by id, and its tags and properties in one query: the server's most frequent read
# ("get a run"), in plain SQL through the driver, which skips SQLAlchemy's compile and
# cache-key work (about half of the call's time on SQLite). ``{p}`` is the driver's mark.
_GET_SQL = (
    "SELECT runs.*, experiments.name AS experiment_name FROM runs "
    "JOIN experiments ON experiments.id = runs.experiment_id WHERE runs.run_id = {p}"
)
_KEYVALUES_SQL = (
    "SELECT 0 AS kind, name, value FROM run_tags WHERE owner_id = {p} UNION ALL "
    "SELECT 1 AS kind, name, value FROM run_properties WHERE owner_id = {p} ORDER BY 1, 2"
)


def get(conn: sa.Connection, run_id: str) -> RunRecord:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    row = conn.exec_driver_sql(_GET_SQL.format(p=mark), (run_id,)).one_or_none()
    if row is None:
        raise not_found(run_id)
    tags: dict[str, str] = {}
    properties: dict[str, str] = {}
    for kind, name, value in conn.exec_driver_sql(_KEYVALUES_SQL.format(p=mark), (row.id, row.id)):
        (properties if kind else tags)[name] = value
    return _record(row, tags, properties)


def _filtered(
    *,
    experiment_name: str | None,
    parent_run_id: str | None,
    statuses: Sequence[RunStatus] | None,
    tags: dict[str, str | None] | None,
    target: str | None,
) -> sa.Select[Any]:
    query = _SELECT.order_by(runs.c.id.desc())  # creation order, whatever the clocks say
    if experiment_name is not None:
        query = query.where(experiments_table.c.name == experiment_name)
    if parent_run_id is not None:
        query = query.where(runs.c.parent_run_id == parent_run_id)
    if statuses is not None:
        query = query.where(runs.c.status.in_([RunStatus(s).value for s in statuses]))
    if tags:
        query = query.where(*TAGS.matches(runs.c.id, tags))
    if target is not None:
        query = query.where(runs.c.target == target)
    return query


def list_runs(
    conn: sa.Connection,
    *,
    experiment_name: str | None,
    parent_run_id: str | None,
    statuses: Sequence[RunStatus] | None,
    tags: dict[str, str | None] | None,
    limit: int | None,
    target: str | None = None,
) -> list[RunRecord]:
    query = _filtered(
        experiment_name=experiment_name,
        parent_run_id=parent_run_id,
        statuses=statuses,
        tags=tags,
        target=target,
    )
    if limit is not None:
        query = query.limit(limit)
    return _records(conn, conn.execute(query).all())


def list_page(
    conn: sa.Connection,
    *,
    experiment_name: str | None,
    parent_run_id: str | None,
    statuses: Sequence[RunStatus] | None,
    tags: dict[str, str | None] | None,
    target: str | None,
    max_results: int,
    page_token: str | None,
) -> RunPage:
    """A page of runs newest first; the token holds the row key of the page's last run."""
    filters: dict[str, Any] = {
        "experiment_name": experiment_name,
        "parent_run_id": parent_run_id,
        "statuses": statuses,
        "tags": tags,
        "target": target,
    }
    max_results = paging.check_max_results(max_results)
    fingerprint = paging.query_fingerprint(**filters)
    query = _filtered(**filters)
    if page_token is not None:
        query = query.where(runs.c.id < paging.decode_token(page_token, fingerprint))
    rows = conn.execute(query.limit(max_results + 1)).all()
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        token = paging.encode_token(rows[-1].id, fingerprint)
    return RunPage(_records(conn, rows), token)


def set_status(
    conn: sa.Connection,
    run_id: str,
    status: RunStatus,
    *,
    error: dict[str, Any] | None,
    expected: Iterable[RunStatus] | None,
) -> RunRecord:
    """Compare-and-set: the row is locked, checked and changed in one transaction."""
    status = RunStatus(status)
    row = conn.execute(_STATUS, {"b_run_id": run_id}).one_or_none()
    if row is None:
        raise not_found(run_id)
    current = RunStatus(row.status)
    if expected is not None:
        wanted = [RunStatus(s) for s in expected]
        if current not in wanted:
            raise messages.unexpected_status(run_id, current, wanted, status)
    if not can_transition(current, status):
        allowed = [str(s) for s in RunStatus if s in allowed_transitions(current)]
        raise messages.forbidden_transition(run_id, current, status, allowed)
    now = time.time()
    values: dict[str, Any] = {"status": status.value}
    if status is RunStatus.RUNNING and row.started_at is None:
        values["started_at"] = now
    if status in TERMINAL_STATUSES:
        values["ended_at"] = now
    if error is not None:
        values["error"] = documents.dumps(error, "Run error")
    conn.execute(_UPDATE, {"b_key": row.id, **values})
    # In the same transaction as the status: the history never disagrees with the run.
    conn.execute(_RECORD_CHANGE, {"run_key": row.id, "status": status.value, "at": now})
    return get(conn, run_id)


def status_history(conn: sa.Connection, run_id: str) -> list[StatusChange]:
    """The run's statuses in the order it entered them (see ``RunStore.get_status_history``)."""
    key = require_key(conn, run_id, lock=False)
    rows = conn.execute(_HISTORY, {"b_key": key}).all()
    return [StatusChange(RunStatus(row.status), float(row.at)) for row in rows]


def update(
    conn: sa.Connection,
    run_id: str,
    *,
    display_name: str | None,
    details: dict[str, Any] | None,
    heartbeat_at: float | None,
) -> RunRecord:
    row = conn.execute(_DETAILS, {"b_run_id": run_id}).one_or_none()
    if row is None:
        raise not_found(run_id)
    values: dict[str, Any] = {}
    if display_name is not None:
        values["display_name"] = display_name
    if details:
        merged = {**documents.loads(row.details), **details}
        values["details"] = documents.dumps(merged, "Run details")
        if "runDefinition" in details:  # the arguments the parameters come from
            _write_params(conn, row.id, row.experiment_id, merged, replace=True)
    if heartbeat_at is not None:
        values["heartbeat_at"] = heartbeat_at
    if values:
        conn.execute(_UPDATE, {"b_key": row.id, **values})
    return get(conn, run_id)


def set_tags(conn: sa.Connection, run_id: str, tags: dict[str, str]) -> None:
    TAGS.put(conn, require_key(conn, run_id, lock=True), tags)


def remove_tags(conn: sa.Connection, run_id: str, names: Iterable[str]) -> None:
    TAGS.remove(conn, require_key(conn, run_id, lock=True), names)


def add_properties(conn: sa.Connection, run_id: str, properties: dict[str, str]) -> None:
    key = require_key(conn, run_id, lock=True)
    PROPERTIES.add_once(conn, key, properties, what=f"run {run_id}")

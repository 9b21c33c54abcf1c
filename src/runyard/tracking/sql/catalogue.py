"""The workspace catalogue: datastores, compute targets and environment versions."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from runyard.entities import ComputeTargetRecord, DatastoreRecord, EnvironmentRecord
from runyard.errors import NotFound
from runyard.tracking import documents, messages
from runyard.tracking.sql import counters
from runyard.tracking.sql.tables import compute_targets, datastores, environments


def _names(conn: sa.Connection, column: sa.Column[str]) -> list[str]:
    query = sa.select(column).order_by(column).distinct().limit(messages.LISTED + 1)
    return list(conn.execute(query).scalars().all())


# -- datastores ---------------------------------------------------------------------


def _datastore(row: sa.Row[Any]) -> DatastoreRecord:
    return DatastoreRecord(
        name=row.name,
        url=row.url,
        kind=row.kind,
        options=documents.loads(row.options),
        is_default=bool(row.is_default),
    )


def save_datastore(conn: sa.Connection, record: DatastoreRecord, *, overwrite: bool) -> None:
    if record.is_default:
        counters.lock(conn, "lock", "default-datastore")  # one default, even when racing
    exists = conn.execute(
        sa.select(datastores.c.name).where(datastores.c.name == record.name).with_for_update()
    ).first()
    if exists and not overwrite:
        raise messages.datastore_exists(record.name)
    values = {
        "url": record.url,
        "kind": record.kind,
        "options": documents.dumps(record.options, f"Options of datastore {record.name!r}"),
        "is_default": bool(record.is_default),
    }
    if record.is_default:
        conn.execute(
            sa.update(datastores)
            .where(datastores.c.is_default.is_(True), datastores.c.name != record.name)
            .values(is_default=False)
        )
    if exists:
        conn.execute(sa.update(datastores).where(datastores.c.name == record.name).values(values))
    else:
        conn.execute(sa.insert(datastores).values(name=record.name, **values))


def get_datastore(conn: sa.Connection, name: str | None) -> DatastoreRecord:
    if name is None:
        row = conn.execute(sa.select(datastores).where(datastores.c.is_default.is_(True))).first()
        if row is None:
            raise messages.no_default_datastore(_names(conn, datastores.c.name))
    else:
        row = conn.execute(sa.select(datastores).where(datastores.c.name == name)).first()
        if row is None:
            raise messages.datastore_not_found(name, _names(conn, datastores.c.name))
    return _datastore(row)


def list_datastores(conn: sa.Connection) -> list[DatastoreRecord]:
    return [_datastore(row) for row in conn.execute(sa.select(datastores).order_by("name"))]


# -- compute targets ------------------------------------------------------------------


def _target(row: sa.Row[Any]) -> ComputeTargetRecord:
    return ComputeTargetRecord(
        name=row.name,
        kind=row.kind,
        config=documents.loads(row.config),
        created_at=row.created_at,
        state=row.state,
    )


def save_compute_target(
    conn: sa.Connection, record: ComputeTargetRecord, *, overwrite: bool
) -> None:
    exists = conn.execute(
        sa.select(compute_targets.c.name)
        .where(compute_targets.c.name == record.name)
        .with_for_update()
    ).first()
    if exists and not overwrite:
        raise messages.compute_target_exists(record.name)
    values = {
        "kind": record.kind,
        "config": documents.dumps(record.config, f"Config of compute target {record.name!r}"),
        "created_at": record.created_at or time.time(),
        "state": record.state,
    }
    if exists:
        table = compute_targets
        conn.execute(sa.update(table).where(table.c.name == record.name).values(values))
    else:
        conn.execute(sa.insert(compute_targets).values(name=record.name, **values))


def _target_not_found(conn: sa.Connection, name: str) -> NotFound:
    return messages.compute_target_not_found(name, _names(conn, compute_targets.c.name))


def get_compute_target(conn: sa.Connection, name: str) -> ComputeTargetRecord:
    row = conn.execute(sa.select(compute_targets).where(compute_targets.c.name == name)).first()
    if row is None:
        raise _target_not_found(conn, name)
    return _target(row)


def list_compute_targets(conn: sa.Connection) -> list[ComputeTargetRecord]:
    rows = conn.execute(sa.select(compute_targets).order_by(compute_targets.c.name))
    return [_target(row) for row in rows]


def delete_compute_target(conn: sa.Connection, name: str) -> None:
    deleted = conn.execute(sa.delete(compute_targets).where(compute_targets.c.name == name))
    if deleted.rowcount == 0:
        raise _target_not_found(conn, name)


# -- environments ---------------------------------------------------------------------

_SCOPE = "environment"


def _environment(row: sa.Row[Any]) -> EnvironmentRecord:
    return EnvironmentRecord(
        name=row.name,
        version=row.version,
        spec=documents.loads(row.spec),
        created_at=row.created_at,
    )


def create_environment_version(
    conn: sa.Connection, name: str, spec: dict[str, Any]
) -> EnvironmentRecord:
    """The next version of ``name``, or the latest one when its spec equals ``spec``."""
    text = documents.dumps(spec, f"Spec of environment {name!r}", canonical=True)
    latest = counters.lock(conn, _SCOPE, name)  # serializes registrations of one name
    if latest:
        row = conn.execute(
            sa.select(environments).where(
                environments.c.name == name, environments.c.version == latest
            )
        ).one()
        if row.spec == text:
            return _environment(row)
    version = latest + 1
    counters.store(conn, _SCOPE, name, version)
    now = time.time()
    conn.execute(
        sa.insert(environments).values(name=name, version=version, spec=text, created_at=now)
    )
    return EnvironmentRecord(name=name, version=version, spec=documents.loads(text), created_at=now)


def get_environment(conn: sa.Connection, name: str, version: int | None) -> EnvironmentRecord:
    query = sa.select(environments).where(environments.c.name == name)
    if version is None:
        query = query.order_by(environments.c.version.desc()).limit(1)
    else:
        query = query.where(environments.c.version == version)
    row = conn.execute(query).first()
    if row is None:
        raise messages.environment_not_found(name, version, _names(conn, environments.c.name))
    return _environment(row)


def list_environments(conn: sa.Connection) -> list[EnvironmentRecord]:
    """The latest version of each environment, by name."""
    newest = (
        sa.select(environments.c.name, sa.func.max(environments.c.version).label("version"))
        .group_by(environments.c.name)
        .subquery()
    )
    rows = conn.execute(
        sa.select(environments)
        .join(
            newest,
            sa.and_(
                environments.c.name == newest.c.name, environments.c.version == newest.c.version
            ),
        )
        .order_by(environments.c.name)
    )
    return [_environment(row) for row in rows]

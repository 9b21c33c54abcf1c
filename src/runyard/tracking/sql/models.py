"""The model registry: versions allocated from a counter, tags, write-once properties."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from runyard.entities import ModelRecord
from runyard.errors import NotFound
from runyard.tracking import messages
from runyard.tracking.sql import counters
from runyard.tracking.sql.keyvalues import KeyValues
from runyard.tracking.sql.tables import model_properties, model_tags, models

TAGS = KeyValues(model_tags)
PROPERTIES = KeyValues(model_properties)

_SCOPE = "model"


def create_version(
    conn: sa.Connection,
    name: str,
    *,
    artifact_path_template: str,
    description: str | None,
    tags: dict[str, str] | None,
    properties: dict[str, str] | None,
    framework: str | None,
    framework_version: str | None,
    run_id: str | None,
    experiment_name: str | None,
    pending: bool = False,
) -> ModelRecord:
    """Register the next version of ``name`` (see ``TrackingStore.create_model_version``)."""
    version = counters.next_value(conn, _SCOPE, name)
    record = ModelRecord(
        name=name,
        version=version,
        artifact_path=artifact_path_template.replace("{version}", str(version)),
        created_at=time.time(),
        description=description,
        tags=dict(tags or {}),
        properties=dict(properties or {}),
        framework=framework,
        framework_version=framework_version,
        run_id=run_id,
        experiment_name=experiment_name,
    )
    key = conn.execute(
        sa.insert(models)
        .values(
            name=name,
            version=version,
            artifact_path=record.artifact_path,
            created_at=record.created_at,
            description=description,
            framework=framework,
            framework_version=framework_version,
            run_id=run_id,
            experiment_name=experiment_name,
            pending=pending,
        )
        .returning(models.c.id)
    ).scalar_one()
    TAGS.put(conn, key, record.tags)
    PROPERTIES.add_once(conn, key, record.properties, what=record.id)
    return record


def _records(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[ModelRecord]:
    keys = [row.id for row in rows]
    tags = TAGS.load(conn, keys)
    properties = PROPERTIES.load(conn, keys)
    return [
        ModelRecord(
            name=row.name,
            version=row.version,
            artifact_path=row.artifact_path,
            created_at=row.created_at,
            description=row.description,
            tags=tags[row.id],
            properties=properties[row.id],
            framework=row.framework,
            framework_version=row.framework_version,
            run_id=row.run_id,
            experiment_name=row.experiment_name,
        )
        for row in rows
    ]


_VISIBLE = models.c.pending.is_(False)


def _key(
    conn: sa.Connection, name: str, version: int, *, lock: bool, pending_too: bool = False
) -> int:
    query = sa.select(models.c.id).where(models.c.name == name, models.c.version == version)
    if not pending_too:
        query = query.where(_VISIBLE)
    if lock:
        query = query.with_for_update()
    key = conn.execute(query).scalar_one_or_none()
    if key is None:
        raise _not_found(conn, name, version)
    return int(key)


def _not_found(conn: sa.Connection, name: str, version: int | None) -> NotFound:
    versions = (
        conn.execute(
            sa.select(models.c.version)
            .where(models.c.name == name, _VISIBLE)
            .order_by(models.c.version.desc())
            .limit(messages.LISTED + 1)
        )
        .scalars()
        .all()
    )
    return messages.model_not_found(name, version, versions)


def get(conn: sa.Connection, name: str, version: int | None) -> ModelRecord:
    query = sa.select(models).where(models.c.name == name, _VISIBLE)
    if version is None:
        query = query.order_by(models.c.version.desc()).limit(1)
    else:
        query = query.where(models.c.version == version)
    row = conn.execute(query).one_or_none()
    if row is None:
        raise _not_found(conn, name, version)
    return _records(conn, [row])[0]


def list_models(
    conn: sa.Connection,
    *,
    name: str | None,
    tags: dict[str, str | None] | None,
    properties: dict[str, str | None] | None,
    run_id: str | None,
    latest: bool,
) -> list[ModelRecord]:
    """Newest first; ``latest`` keeps the newest matching version of each name."""
    query = sa.select(models).where(_VISIBLE).order_by(models.c.id.desc())
    if name is not None:
        query = query.where(models.c.name == name)
    if run_id is not None:
        query = query.where(models.c.run_id == run_id)
    if tags:
        query = query.where(*TAGS.matches(models.c.id, tags))
    if properties:
        query = query.where(*PROPERTIES.matches(models.c.id, properties))
    rows = conn.execute(query).all()
    if latest:
        seen: set[str] = set()
        newest = []
        for row in rows:  # newest first, so the first row of a name is its latest
            if row.name not in seen:
                seen.add(row.name)
                newest.append(row)
        rows = newest
    return _records(conn, rows)


def update(
    conn: sa.Connection,
    name: str,
    version: int,
    *,
    description: str | None,
    add_tags: dict[str, str] | None,
    remove_tags: Iterable[str] | None,
    add_properties: dict[str, str] | None,
) -> ModelRecord:
    key = _key(conn, name, version, lock=True)
    if description is not None:
        conn.execute(sa.update(models).where(models.c.id == key).values(description=description))
    if remove_tags is not None:
        TAGS.remove(conn, key, remove_tags)
    if add_tags:
        TAGS.put(conn, key, add_tags)
    if add_properties:
        PROPERTIES.add_once(conn, key, add_properties, what=f"{name}:{version}")
    return get(conn, name, version)


def delete(conn: sa.Connection, name: str, version: int) -> None:
    """Delete a version, pending or not; its number stays used (the counter does not go
    back)."""
    _delete_keys(conn, [_key(conn, name, version, lock=True, pending_too=True)])


def _delete_keys(conn: sa.Connection, keys: list[int]) -> None:
    for table in (model_tags, model_properties):
        conn.execute(sa.delete(table).where(table.c.owner_id.in_(keys)))
    conn.execute(sa.delete(models).where(models.c.id.in_(keys)))


def complete(conn: sa.Connection, name: str, version: int) -> ModelRecord:
    """Make a pending version visible: one UPDATE, so readers see all of it or nothing."""
    key = _key(conn, name, version, lock=True, pending_too=True)
    conn.execute(sa.update(models).where(models.c.id == key).values(pending=False))
    return get(conn, name, version)


def reap_pending(conn: sa.Connection, older_than_s: float) -> list[ModelRecord]:
    """Delete the versions pending since before ``older_than_s`` seconds ago."""
    cutoff = time.time() - older_than_s
    rows = conn.execute(
        sa.select(models)
        .where(models.c.pending.is_(True), models.c.created_at < cutoff)
        .order_by(models.c.id)
        .with_for_update()
    ).all()
    if not rows:
        return []
    records = _records(conn, rows)
    _delete_keys(conn, [row.id for row in rows])
    return records

"""The dataset registry of the SQL store: one row per version."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from runyard.entities.dataset import DatasetRecord
from runyard.tracking import documents, messages
from runyard.tracking.sql import counters
from runyard.tracking.sql.tables import datasets

_SCOPE = "dataset"


def _record(row: sa.Row[Any]) -> DatasetRecord:
    return DatasetRecord(
        name=row.name,
        version=row.version,
        kind=row.kind,
        definition=documents.loads(row.definition),
        fingerprint=row.fingerprint,
        description=row.description,
        tags=documents.loads(row.tags),
        created_at=row.created_at,
    )


def register_dataset_version(
    conn: sa.Connection,
    name: str,
    *,
    kind: str,
    definition: dict[str, Any],
    fingerprint: str,
    description: str | None,
    tags: dict[str, str] | None,
    create_new_version: bool,
) -> DatasetRecord:
    """See ``DatasetRegistryStore.register_dataset_version``."""
    text = documents.dumps(definition, f"Definition of dataset {name!r}", canonical=True)
    tags_text = documents.dumps(dict(tags or {}), f"Tags of dataset {name!r}", canonical=True)
    latest = counters.lock(conn, _SCOPE, name)  # serializes registrations of one name
    if latest:
        row = conn.execute(
            sa.select(datasets).where(datasets.c.name == name, datasets.c.version == latest)
        ).one()
        if row.definition == text and row.kind == kind:
            return _record(row)
        if not create_new_version:
            raise messages.dataset_version_differs(name, latest)
    version = latest + 1
    counters.store(conn, _SCOPE, name, version)
    now = time.time()
    values = {
        "name": name,
        "version": version,
        "kind": kind,
        "definition": text,
        "fingerprint": fingerprint,
        "description": description,
        "tags": tags_text,
        "created_at": now,
    }
    conn.execute(sa.insert(datasets).values(values))
    return DatasetRecord(
        name=name,
        version=version,
        kind=kind,
        definition=documents.loads(text),
        fingerprint=fingerprint,
        description=description,
        tags=documents.loads(tags_text),
        created_at=now,
    )


def get_dataset(conn: sa.Connection, name: str, version: int | None) -> DatasetRecord:
    query = sa.select(datasets).where(datasets.c.name == name)
    if version is None:
        query = query.order_by(datasets.c.version.desc()).limit(1)
    else:
        query = query.where(datasets.c.version == version)
    row = conn.execute(query).first()
    if row is None:
        known = conn.execute(
            sa.select(datasets.c.name)
            .distinct()
            .order_by(datasets.c.name)
            .limit(messages.LISTED + 1)
        )
        raise messages.dataset_not_found(name, version, list(known.scalars().all()))
    return _record(row)


def list_datasets(conn: sa.Connection) -> list[DatasetRecord]:
    """The latest version of each dataset, by name."""
    newest = (
        sa.select(datasets.c.name, sa.func.max(datasets.c.version).label("version"))
        .group_by(datasets.c.name)
        .subquery()
    )
    rows = conn.execute(
        sa.select(datasets)
        .join(
            newest,
            sa.and_(datasets.c.name == newest.c.name, datasets.c.version == newest.c.version),
        )
        .order_by(datasets.c.name)
    )
    return [_record(row) for row in rows]

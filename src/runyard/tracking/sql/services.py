"""Web services (the ServiceStore port) in SQL."""

from __future__ import annotations

import dataclasses
import time

import sqlalchemy as sa

from runyard.entities.service import ServiceRecord
from runyard.tracking import service_records as records
from runyard.tracking.messages import LISTED
from runyard.tracking.sql.tables import services


def _names(conn: sa.Connection) -> list[str]:
    query = sa.select(services.c.name).order_by(services.c.name).limit(LISTED + 1)
    return list(conn.execute(query).scalars().all())


def create(conn: sa.Connection, record: ServiceRecord, *, overwrite: bool) -> ServiceRecord:
    exists = conn.execute(
        sa.select(services.c.name).where(services.c.name == record.name).with_for_update()
    ).first()
    if exists and not overwrite:
        raise records.service_exists(record.name)
    now = time.time()
    values = records.to_columns(dataclasses.replace(record, created_at=now, updated_at=now))
    if exists:
        conn.execute(sa.delete(services).where(services.c.name == record.name))
    conn.execute(sa.insert(services).values(values))
    return records.from_columns(values)


def get(conn: sa.Connection, name: str) -> ServiceRecord:
    row = conn.execute(sa.select(services).where(services.c.name == name)).first()
    if row is None:
        raise records.service_not_found(name, _names(conn))
    return records.from_columns(dict(row._mapping))


def list_all(
    conn: sa.Connection, model_name: str | None, compute_type: str | None
) -> list[ServiceRecord]:
    query = sa.select(services).order_by(services.c.name)
    if compute_type is not None:
        query = query.where(services.c.compute_type == compute_type)
    found = [records.from_columns(dict(row._mapping)) for row in conn.execute(query)]
    return [r for r in found if records.matches(r, model_name, compute_type)]


def update(conn: sa.Connection, record: ServiceRecord) -> ServiceRecord:
    created = conn.execute(
        sa.select(services.c.created_at).where(services.c.name == record.name).with_for_update()
    ).scalar()
    if created is None:
        raise records.service_not_found(record.name, _names(conn))
    values = records.to_columns(
        dataclasses.replace(record, created_at=created, updated_at=time.time())
    )
    conn.execute(sa.update(services).where(services.c.name == record.name).values(values))
    return records.from_columns(values)


def delete(conn: sa.Connection, name: str) -> None:
    if conn.execute(sa.delete(services).where(services.c.name == name)).rowcount == 0:
        raise records.service_not_found(name, _names(conn))

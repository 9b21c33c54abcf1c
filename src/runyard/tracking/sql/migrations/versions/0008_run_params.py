"""Run search on parameters: each run's script arguments as (name, value, number) rows.

Revision ID: 0008_run_params
Revises: 0007_idempotent
Create Date: 2026-12-03

One row per (run, parameter) with the value as text and, where it reads as a finite
number, as a number; indexed by (experiment, name, number, run), so the runs table ordered
or filtered by a parameter is a query, not a read of every run's details. Existing runs'
parameters are parsed from their details here.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from runyard.tracking.run_params import param_number, params_of

revision = "0008_run_params"
down_revision = "0007_idempotent"
branch_labels = None
depends_on = None

_TABLE = "run_params"
_BATCH = 5000


def upgrade() -> None:
    table = op.create_table(
        _TABLE,
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("number", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("run_key", "name", name=f"pk_{_TABLE}"),
        sa.ForeignKeyConstraint(
            ["run_key"], ["runs.id"], name=f"fk_{_TABLE}_run_key_runs", ondelete="CASCADE"
        ),
    )
    conn = op.get_bind()
    runs = sa.table(
        "runs", sa.column("id", sa.Integer), sa.column("experiment_id"), sa.column("details")
    )
    last = -1
    while True:  # in batches of row keys: a large store is never read into memory at once
        batch = conn.execute(
            sa.select(runs.c.id, runs.c.experiment_id, runs.c.details)
            .where(runs.c.id > last)
            .order_by(runs.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            break
        last = batch[-1].id
        rows = [
            {
                "run_key": key,
                "name": name,
                "experiment_id": experiment_id,
                "value": value,
                "number": param_number(value),
            }
            for key, experiment_id, details in batch
            for name, value in params_of(json.loads(details) if details else {}).items()
            if len(name) <= 255  # as the store writes them: longer names are not searchable
        ]
        if rows:
            op.bulk_insert(table, rows)
    # Built after the backfill: one sort instead of index updates row by row.
    op.create_index(f"ix_{_TABLE}_number", _TABLE, ["experiment_id", "name", "number", "run_key"])


def downgrade() -> None:
    op.drop_index(f"ix_{_TABLE}_number", table_name=_TABLE)
    op.drop_table(_TABLE)

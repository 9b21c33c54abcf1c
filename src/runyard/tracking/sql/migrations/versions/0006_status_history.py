"""Run status history: one row per status a run entered, with its time.

Revision ID: 0006_status_history
Revises: 0005
Create Date: 2026-12-01

The run page's phase timeline (Queued -> Preparing -> Starting -> Running -> Finalizing ->
Completed) reads it. Runs that exist already get one row: their current status at the
last time the run records (ended, else started, else created); their earlier phases were
never kept.

Also an index on runs (experiment_id, status): the web UI's live runs table looks up an
experiment's unfinished runs a few times a second.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_status_history"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLE = "run_status_changes"

BACKFILL = f"""
INSERT INTO {_TABLE} (run_key, status, at)
SELECT id, status, COALESCE(ended_at, started_at, created_at) FROM runs ORDER BY id
"""


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{_TABLE}"),
        sa.ForeignKeyConstraint(
            ["run_key"], ["runs.id"], name=f"fk_{_TABLE}_run_key_runs", ondelete="CASCADE"
        ),
    )
    op.execute(BACKFILL)
    op.create_index(f"ix_{_TABLE}_run_key", _TABLE, ["run_key"])
    op.create_index("ix_runs_experiment_id_status", "runs", ["experiment_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_runs_experiment_id_status", table_name="runs")
    op.drop_index(f"ix_{_TABLE}_run_key", table_name=_TABLE)
    op.drop_table(_TABLE)

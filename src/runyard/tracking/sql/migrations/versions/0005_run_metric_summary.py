"""Run search: a summary of each scalar metric of a run, kept as values are logged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

One row per (run, metric name) with the last value and its step, the lowest and highest
non-NaN values and the count; indexed by (experiment, name, value, run) for each of last,
min and max, so a page of an experiment's runs ordered by a metric is an index range scan.
Existing metrics are summarized here, in one pass over the values (clustered by series).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLE = "run_metric_summaries"
_VALUE_COLUMNS = ("last_value", "min_value", "max_value")

# A scalar row's number: ``value``, except -0.0, kept as NULL with payload '-0.0' (a NaN
# has NULL in both). Summaries do not keep the sign of a zero.
_NUMBER = "CASE WHEN {t}.value IS NULL AND {t}.payload IS NOT NULL THEN 0.0 ELSE {t}.value END"

BACKFILL = f"""
INSERT INTO {_TABLE}
    (run_key, name, experiment_id, last_value, last_step, min_value, max_value, count)
SELECT s.run_key, s.name, r.experiment_id, {_NUMBER.format(t="l")}, l.step, a.lo, a.hi, a.n
FROM metric_series s
JOIN runs r ON r.id = s.run_key
JOIN (
    SELECT m.series_id, MIN({_NUMBER.format(t="m")}) AS lo, MAX({_NUMBER.format(t="m")}) AS hi,
           COUNT(*) AS n, MAX(m.seq) AS last_seq
    FROM metrics m
    GROUP BY m.series_id
) a ON a.series_id = s.id
JOIN metrics l ON l.series_id = s.id AND l.seq = a.last_seq
WHERE s.kind = 'scalar'
"""


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("last_value", sa.Double, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.Column("min_value", sa.Double, nullable=True),
        sa.Column("max_value", sa.Double, nullable=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_key", "name", name=f"pk_{_TABLE}"),
        sa.ForeignKeyConstraint(
            ["run_key"], ["runs.id"], name=f"fk_{_TABLE}_run_key_runs", ondelete="CASCADE"
        ),
    )
    # Filled before the indexes are built: one sort per index instead of index updates
    # row by row.
    op.execute(BACKFILL)
    for column in _VALUE_COLUMNS:
        op.create_index(
            f"ix_{_TABLE}_{column}", _TABLE, ["experiment_id", "name", column, "run_key"]
        )


def downgrade() -> None:
    for column in _VALUE_COLUMNS:
        op.drop_index(f"ix_{_TABLE}_{column}", table_name=_TABLE)
    op.drop_table(_TABLE)

"""Idempotent metric writes: the ids of the metric batches stored.

Revision ID: 0007_idempotent
Revises: 0006_status_history
Create Date: 2026-12-01

A client that loses the answer to a metric write (the server killed, the network cut)
sends the batch again with the id it gave it; ``log_metrics`` claims the id in the
transaction that writes the values, so the retry writes nothing. Ids are kept a week
(``tracking.sql.metrics.BATCH_ID_KEPT_S``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_idempotent"
down_revision = "0006_status_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_batches",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("stored_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_metric_batches"),
    )
    # Ids older than a week are deleted now and then: a range on this index.
    op.create_index("ix_metric_batches_stored_at", "metric_batches", ["stored_at"])


def downgrade() -> None:
    op.drop_index("ix_metric_batches_stored_at", table_name="metric_batches")
    op.drop_table("metric_batches")

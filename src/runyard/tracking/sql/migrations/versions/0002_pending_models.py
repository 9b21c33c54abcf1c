"""Model versions are pending until their files are complete.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Existing versions were complete when registered: the column defaults to false.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "models",
        sa.Column("pending", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_column("pending")

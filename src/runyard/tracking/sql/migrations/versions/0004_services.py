"""Web services (the ServiceStore port).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("compute_type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("models", sa.Text, nullable=False),
        sa.Column("scoring_uri", sa.Text, nullable=True),
        sa.Column("auth_enabled", sa.Boolean, nullable=False),
        sa.Column("primary_key", sa.Text, nullable=False),
        sa.Column("secondary_key", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_services"),
    )


def downgrade() -> None:
    op.drop_table("services")

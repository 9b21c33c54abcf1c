"""Users, API tokens and workspace memberships of one server.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_users",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_users"),
        sa.UniqueConstraint("name", name="uq_identity_users_name"),
    )
    op.create_table(
        "identity_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=True),
        sa.Column("revoked_at", sa.Double, nullable=True),
        sa.Column("scope_workspace", sa.String(255), nullable=True),
        sa.Column("scope_run", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_identity_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["identity_users.id"], name="fk_identity_tokens_user_id_identity_users"
        ),
    )
    op.create_index("ix_identity_tokens_user_id", "identity_tokens", ["user_id"])
    op.create_table(
        "identity_members",
        sa.Column("workspace", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "user_id", name="pk_identity_members"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["identity_users.id"], name="fk_identity_members_user_id_identity_users"
        ),
    )
    op.create_index("ix_identity_members_user_id", "identity_members", ["user_id"])


def downgrade() -> None:
    op.drop_table("identity_members")
    op.drop_table("identity_tokens")
    op.drop_table("identity_users")

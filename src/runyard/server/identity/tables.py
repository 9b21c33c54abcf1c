"""The tables of the server's identity store (SQLAlchemy Core, one ``MetaData``).

They may share a PostgreSQL database with workspaces, so every name starts with
``identity_`` and the schema's revision lives in its own ``identity_alembic_version`` table.
Times are Unix seconds in double-precision columns, as in the tracking store.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Where Alembic keeps this schema's revision (not ``alembic_version``: that is a workspace's).
VERSION_TABLE = "identity_alembic_version"

users = sa.Table(
    "identity_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

tokens = sa.Table(
    "identity_tokens",
    metadata,
    # The public id (shown in lists, used to revoke); the secret is never stored.
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("identity_users.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    # SHA-256 of the secret, hex: the key a request's token is looked up by.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=True),
    sa.Column("revoked_at", sa.Double, nullable=True),
    # A run-scoped token: the workspace and run it may write (both null for a user's token).
    sa.Column("scope_workspace", sa.String(255), nullable=True),
    sa.Column("scope_run", sa.String(255), nullable=True),
    sa.Index("ix_identity_tokens_user_id", "user_id"),
)

members = sa.Table(
    "identity_members",
    metadata,
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("identity_users.id"), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint("workspace", "user_id"),
    sa.Index("ix_identity_members_user_id", "user_id"),
)

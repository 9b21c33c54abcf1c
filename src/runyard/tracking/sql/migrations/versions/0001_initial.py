"""Initial schema: experiments, runs with tags and properties, metric series and their
values, the model registry, counters, datastores, compute targets and environments.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

The tables are written out here rather than taken from ``tables.py``: a migration is a
record of what the schema was at that revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NAME = sa.String(255)


def _key_values(name: str, owner: str) -> None:
    op.create_table(
        name,
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "name", name=f"pk_{name}"),
        sa.ForeignKeyConstraint(
            ["owner_id"], [f"{owner}.id"], name=f"fk_{name}_owner_id_{owner}", ondelete="CASCADE"
        ),
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("run_id", _NAME, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("parent_run_id", _NAME, nullable=True),
        sa.Column("run_type", sa.String(64), nullable=False),
        sa.Column("target", _NAME, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("started_at", sa.Double, nullable=True),
        sa.Column("ended_at", sa.Double, nullable=True),
        sa.Column("heartbeat_at", sa.Double, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
        sa.UniqueConstraint("experiment_id", "number", name="uq_runs_experiment_id_number"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_runs_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_run_id"], ["runs.run_id"], name="fk_runs_parent_run_id_runs"
        ),
    )
    op.create_index("ix_runs_parent_run_id", "runs", ["parent_run_id"])
    _key_values("run_tags", "runs")
    _key_values("run_properties", "runs")
    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metric_series"),
        sa.UniqueConstraint("run_key", "name", "kind", name="uq_metric_series_run_key_name_kind"),
        sa.ForeignKeyConstraint(
            ["run_key"], ["runs.id"], name="fk_metric_series_run_key_runs", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "metrics",
        sa.Column("series_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=True),
        sa.Column("logged_at", sa.Double, nullable=False),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("payload", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("series_id", "seq", name="pk_metrics"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("artifact_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("framework", _NAME, nullable=True),
        sa.Column("framework_version", _NAME, nullable=True),
        sa.Column("run_id", _NAME, nullable=True),
        sa.Column("experiment_name", _NAME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("name", "version", name="uq_models_name_version"),
    )
    op.create_index("ix_models_run_id", "models", ["run_id"])
    _key_values("model_tags", "models")
    _key_values("model_properties", "models")
    op.create_table(
        "counters",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("scope", "name", name="pk_counters"),
    )
    op.create_table(
        "datastores",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_datastores"),
    )
    op.create_table(
        "compute_targets",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_compute_targets"),
    )
    op.create_table(
        "environments",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_environments"),
    )


def downgrade() -> None:
    for table in (
        "environments",
        "compute_targets",
        "datastores",
        "counters",
        "model_properties",
        "model_tags",
        "models",
        "metrics",
        "metric_series",
        "run_properties",
        "run_tags",
        "runs",
        "experiments",
    ):
        op.drop_table(table)

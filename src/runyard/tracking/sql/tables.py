"""The tables of the SQL tracking store (SQLAlchemy Core, one ``MetaData``).

This module describes the schema the code expects; the migrations in ``migrations/versions``
create it (a contract test checks that the two agree). Conventions:

- times are Unix seconds in double-precision columns, as in the entities;
- JSON documents (details, errors, options, specs, non-scalar metric values) are ``Text``
  written by Python's ``json`` so NaN and +-inf survive on both databases;
- runs and models have an integer surrogate key that their tag, property and metric rows
  point to, which keeps those rows small and their joins cheap;
- tags and properties live in key/value tables, so filters are plain SQL on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa

# Named constraints keep migrations deterministic on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Name = sa.String(255)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Name, nullable=False, unique=True),
    sa.Column("created_at", sa.Double, nullable=False),
    # The last run number handed out: the counter row for run numbers.
    sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", Name, nullable=False, unique=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("parent_run_id", Name, sa.ForeignKey("runs.run_id"), nullable=True, index=True),
    sa.Column("run_type", sa.String(64), nullable=False),
    sa.Column("target", Name, nullable=True),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("started_at", sa.Double, nullable=True),
    sa.Column("ended_at", sa.Double, nullable=True),
    sa.Column("heartbeat_at", sa.Double, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("details", sa.Text, nullable=False),
    sa.UniqueConstraint("experiment_id", "number"),
)
# An experiment's unfinished runs (the web UI's live runs table asks a few times a second):
# an index range per status instead of a scan of every run of the experiment (migration
# 0006_status_history).
sa.Index("ix_runs_experiment_id_status", runs.c.experiment_id, runs.c.status)


# A run's status history: one row per status it entered (its first status included), in
# the order of ``id``. Read by run only, hence the index on ``run_key``.
run_status_changes = sa.Table(
    "run_status_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "run_key",
        sa.Integer,
        sa.ForeignKey("runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)


def _key_values(name: str, owner: str) -> sa.Table:
    """A tag or property table: (owner key, name) -> value."""
    return sa.Table(
        name,
        metadata,
        sa.Column(
            "owner_id",
            sa.Integer,
            sa.ForeignKey(f"{owner}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", Name, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


run_tags = _key_values("run_tags", "runs")
run_properties = _key_values("run_properties", "runs")

# One row per (run, metric name, kind): the series that metric rows belong to. Keeping
# the name out of the metric rows makes the hot path (bulk insert) narrow and its index an
# integer one.
metric_series = sa.Table(
    "metric_series",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_key", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", Name, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.UniqueConstraint("run_key", "name", "kind"),
)

# Each value is stored clustered by its series (SQLite: WITHOUT ROWID), so the bulk insert
# writes one b-tree and reading a series is one range scan; ``seq`` is the logging order
# across series: allocated by the store on SQLite (it holds the write lock), an identity
# on PostgreSQL.
metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=True),
    sa.Column("logged_at", sa.Double, nullable=False),
    # Scalars: the number, NULL meaning NaN (SQLite cannot store NaN). Other kinds: NULL.
    sa.Column("value", sa.Double, nullable=True),
    # Non-scalar kinds: the JSON document. Scalars: NULL.
    sa.Column("payload", sa.Text, nullable=True),
    # No foreign key to the series: checking one per row makes PostgreSQL's bulk insert
    # ~3x slower. The series row is written by the same transaction.
    sqlite_with_rowid=False,
)

# The ids of the metric batches stored (migration 0006): ``log_metrics(batch_id=...)``
# claims the id in the transaction that writes the batch, so a client's retry of a batch
# whose answer it lost writes nothing (idempotent writes). Not tied to a run: a batch can
# hold several runs' values.
metric_batches = sa.Table(
    "metric_batches",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("stored_at", sa.Double, nullable=False),
)
# Old ids are forgotten (``metrics.BATCH_ID_KEPT_S``): a range delete on this index.
sa.Index("ix_metric_batches_stored_at", metric_batches.c.stored_at)

# The summary of each scalar metric of a run (migration 0005), kept by ``log_metrics`` in
# the transaction that writes the values: run search filters and orders on it without
# reading metric values. ``last_value`` NULL means NaN (a row is there only when a value
# is); ``min_value``/``max_value`` leave NaN out. The experiment is copied in so that one
# index serves "this experiment's runs ordered by this metric".
run_metric_summaries = sa.Table(
    "run_metric_summaries",
    metadata,
    sa.Column(
        "run_key",
        sa.Integer,
        sa.ForeignKey("runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", Name, primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("last_value", sa.Double, nullable=True),
    sa.Column("last_step", sa.BigInteger, nullable=True),
    sa.Column("min_value", sa.Double, nullable=True),
    sa.Column("max_value", sa.Double, nullable=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
for _column in ("last_value", "min_value", "max_value"):
    sa.Index(
        f"ix_run_metric_summaries_{_column}",
        run_metric_summaries.c.experiment_id,
        run_metric_summaries.c.name,
        run_metric_summaries.c[_column],
        run_metric_summaries.c.run_key,
    )

# A run's parameters (its ``--name value`` script arguments, see ``run_params``), written
# with the details they come from: run search filters and orders on them in SQL. ``number``
# is the value read as a finite number (NULL for text); the experiment is copied in so that
# one index serves "this experiment's runs ordered by this parameter".
run_params = sa.Table(
    "run_params",
    metadata,
    sa.Column(
        "run_key",
        sa.Integer,
        sa.ForeignKey("runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", Name, primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("number", sa.Double, nullable=True),
)
sa.Index(
    "ix_run_params_number",
    run_params.c.experiment_id,
    run_params.c.name,
    run_params.c.number,
    run_params.c.run_key,
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Name, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("artifact_path", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("framework", Name, nullable=True),
    sa.Column("framework_version", Name, nullable=True),
    sa.Column("run_id", Name, nullable=True, index=True),
    sa.Column("experiment_name", Name, nullable=True),
    # True from the version's creation until its files are complete (see
    # ModelRegistryStore): readers skip pending versions.
    sa.Column("pending", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("name", "version"),
)

model_tags = _key_values("model_tags", "models")
model_properties = _key_values("model_properties", "models")

# Version counters that outlive what they count (model versions are never reused).
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("scope", sa.String(32), primary_key=True),
    sa.Column("name", Name, primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

datastores = sa.Table(
    "datastores",
    metadata,
    sa.Column("name", Name, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("options", sa.Text, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
)

compute_targets = sa.Table(
    "compute_targets",
    metadata,
    sa.Column("name", Name, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("state", sa.String(64), nullable=False),
)

environments = sa.Table(
    "environments",
    metadata,
    sa.Column("name", Name, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

# Registered dataset versions (migration 0003): the definition is the JSON of
# ``runyard.entities.dataset`` (pinned files, tabular settings), never changed once written.
datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("name", Name, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

# Web services (ServiceStore): one row per name; models, config, tags, properties and the
# error are JSON documents (services are few: filters run on the loaded records).
services = sa.Table(
    "services",
    metadata,
    sa.Column("name", Name, primary_key=True),
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
)

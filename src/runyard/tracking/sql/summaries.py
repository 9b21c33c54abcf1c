"""Metric summaries (``run_metric_summaries``): kept by ``log_metrics`` in the transaction
that writes the values, one upsert row per (run, name) of a batch, aggregated here first.

A batch's values are later than every value logged before it, so its last value replaces
the stored one; lowest and highest merge; counts add. NaN is NULL in ``last_value`` and is
left out of ``min_value``/``max_value`` (NULL until a number comes).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from runyard.entities import MetricRecord
from runyard.tracking.run_search import aggregate

_COLUMNS = "run_key, name, experiment_id, last_value, last_step, min_value, max_value, count"
_SET = """last_value = excluded.last_value, last_step = excluded.last_step,
    min_value = {least}(COALESCE(t.min_value, excluded.min_value),
                        COALESCE(excluded.min_value, t.min_value)),
    max_value = {greatest}(COALESCE(t.max_value, excluded.max_value),
                           COALESCE(excluded.max_value, t.max_value)),
    count = t.count + excluded.count"""
_UPSERT = {
    # SQLite's two-argument min/max are scalar functions (NULL if either is NULL: hence the
    # COALESCEs); PostgreSQL's LEAST/GREATEST.
    "sqlite": (
        f"INSERT INTO run_metric_summaries AS t ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run_key, name) DO UPDATE SET " + _SET.format(least="min", greatest="max")
    ),
    "postgresql": (
        f"INSERT INTO run_metric_summaries AS t ({_COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (run_key, name) DO UPDATE SET "
        + _SET.format(least="LEAST", greatest="GREATEST")
    ),
}


def update(
    conn: sa.Connection,
    records: Sequence[MetricRecord],
    runs: dict[str, tuple[int, int]],
) -> None:
    """Merge the batch's scalars into the summaries; ``runs`` maps each run id to its row
    key and experiment id."""
    found = aggregate(records)
    if not found:
        return
    rows = []
    for (run_id, name), (last, step, low, high, count) in found.items():
        key, experiment_id = runs[run_id]
        rows.append((key, name, experiment_id, last, step, low, high, count))
    rows.sort(key=lambda row: (row[0], row[1]))  # one lock order for concurrent writers
    conn.exec_driver_sql(_UPSERT[conn.dialect.name], rows)

"""A run's metrics as its page lists them: the scalar series' names, and the values of
every other kind (tables, rows, lists, images, text), which are few and shown whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from runyard.tracking import documents
from runyard.tracking.sql.database import Database
from runyard.tracking.sql.tables import metric_series, metrics, run_metric_summaries, runs

#: The most non-scalar values one page shows (per run).
MAX_RECORDS = 5000


@dataclass
class OtherValue:
    """One logged value of a non-scalar kind."""

    name: str
    kind: str
    value: Any
    step: int | None
    logged_at: float


@dataclass
class MetricOverview:
    """A run's scalar series (name -> number of values) and its other values, in logging
    order (at most :data:`MAX_RECORDS`; ``truncated`` says when there were more)."""

    scalars: dict[str, int] = field(default_factory=dict)
    others: list[OtherValue] = field(default_factory=list)
    truncated: bool = False


def metric_overview(db: Database, run_id: str) -> MetricOverview:
    """The overview of ``run_id``'s metrics (an unknown run has none)."""
    overview = MetricOverview()
    with db.read() as conn:
        found = conn.execute(
            sa.select(
                metric_series.c.id,
                metric_series.c.name,
                metric_series.c.kind,
                metric_series.c.run_key,
            )
            .join(runs, runs.c.id == metric_series.c.run_key)
            .where(runs.c.run_id == run_id)
            .order_by(metric_series.c.name)
        ).all()
        scalar_ids = {row.id: row.name for row in found if row.kind == "scalar"}
        other_ids = {row.id: (row.name, row.kind) for row in found if row.kind != "scalar"}
        if scalar_ids:
            # The summary the store keeps as values are logged holds each scalar series'
            # count: a run with a million values is not counted one by one.
            counts = conn.execute(
                sa.select(run_metric_summaries.c.name, run_metric_summaries.c.count).where(
                    run_metric_summaries.c.run_key == found[0].run_key,
                    run_metric_summaries.c.name.in_(list(scalar_ids.values())),
                )
            ).all()
            overview.scalars = {name: int(n) for name, n in sorted(counts) if n}
        if other_ids:
            rows = conn.execute(
                sa.select(
                    metrics.c.series_id, metrics.c.step, metrics.c.logged_at, metrics.c.payload
                )
                .where(metrics.c.series_id.in_(list(other_ids)))
                .order_by(metrics.c.seq)
                .limit(MAX_RECORDS + 1)
            ).all()
            overview.truncated = len(rows) > MAX_RECORDS
            for series_id, step, logged_at, payload in rows[:MAX_RECORDS]:
                name, kind = other_ids[series_id]
                value = documents.loads(payload)
                if kind == "scalar":  # pragma: no cover - excluded above
                    continue
                overview.others.append(OtherValue(name, kind, value, step, logged_at))
    return overview

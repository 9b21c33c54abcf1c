"""The experiments page's read model: each experiment with its run count, how many runs
are active, and its last activity."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from runyard.entities.run import TERMINAL_STATUSES
from runyard.tracking.sql.database import Database
from runyard.tracking.sql.tables import experiments, runs


@dataclass
class ExperimentSummary:
    """One experiment as the list shows it; ``last_activity`` is the newest of its runs'
    creation, heartbeat and end times (its own creation time when it has no runs)."""

    name: str
    created_at: float
    run_count: int
    active_count: int
    last_activity: float


def experiment_summaries(db: Database, text: str = "") -> list[ExperimentSummary]:
    """Every experiment whose name contains ``text`` (case-insensitive), the most
    recently active first."""
    terminal = [status.value for status in TERMINAL_STATUSES]
    active = sa.func.sum(
        sa.case((sa.and_(runs.c.id.is_not(None), runs.c.status.not_in(terminal)), 1), else_=0)
    )
    query = (
        sa.select(
            experiments.c.name,
            experiments.c.created_at,
            sa.func.count(runs.c.id),
            active,
            sa.func.max(runs.c.created_at),
            sa.func.max(runs.c.heartbeat_at),
            sa.func.max(runs.c.ended_at),
        )
        .select_from(experiments.outerjoin(runs, runs.c.experiment_id == experiments.c.id))
        .group_by(experiments.c.id, experiments.c.name, experiments.c.created_at)
    )
    if text:
        query = query.where(sa.func.lower(experiments.c.name).like(f"%{text.lower()}%"))
    with db.read() as conn:
        found = conn.execute(query).all()
    summaries = [
        ExperimentSummary(
            name=name,
            created_at=created,
            run_count=int(count),
            active_count=int(active_count or 0),
            last_activity=max(t for t in (created, *times) if t is not None),
        )
        for name, created, count, active_count, *times in found
    ]
    summaries.sort(key=lambda s: s.last_activity, reverse=True)
    return summaries

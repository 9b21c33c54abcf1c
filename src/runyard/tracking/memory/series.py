"""Chart lines of the in-memory store (see ``MetricStore.read_series_many``)."""

from __future__ import annotations

from collections.abc import Sequence

from runyard.entities import MetricKind, MetricSeries
from runyard.tracking import messages
from runyard.tracking import series as lines
from runyard.tracking.memory.state import MemoryState
from runyard.tracking.paging import check_many
from runyard.tracking.ports import MetricStore


class MemorySeries(MetricStore):
    """``read_series_many`` straight from the stored values, no record per value."""

    _state: MemoryState

    def read_series_many(
        self, run_ids: Sequence[str], name: str, *, max_points: int | None = None
    ) -> list[MetricSeries]:
        wanted = check_many(run_ids, name, max_points)
        state = self._state
        with state.lock:  # a snapshot of every run, as the SQL adapter's one transaction
            missing = [run_id for run_id in wanted if run_id not in state.runs]
            if missing:
                raise messages.chart_runs_not_found(name, missing)
            columns = {
                run_id: [
                    (row.step, row.value, row.logged_at)
                    for row in state.metrics.get(run_id, ())
                    if row.name == name and row.kind is MetricKind.SCALAR
                ]
                for run_id in wanted
            }
        found = []
        for run_id, rows in columns.items():
            steps, values, times = zip(*rows, strict=True) if rows else ((), (), ())
            found.append(lines.build(run_id, name, steps, values, times, max_points))
        return found

"""Following a HyperDrive run's children: their status, hyperparameters and primary metric.

Each look lists the children (one query) and reads the primary metric of those still
going, only what they logged since the last look; a child that ended is read once more
after its end was seen and then left alone. Children are ranked as
``get_children_sorted_by_primary_metric`` ranks them: by their best value (NaN ignored),
best first; children without a value last, by number.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from runyard.tuning.records import Goal
from runyard.widgets.parallel import parallel_coordinates
from runyard.widgets.records import ChildRow, TuningView
from runyard.widgets.series import SeriesFollower

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.tracking.store import TrackingStore
    from runyard.tuning.study import TuningSpec

#: Points per child's primary-metric line (many children share one chart).
CHILD_POINTS = 200


def hyperparameters_of(parent: RunRecord, child_id: str) -> dict[str, Any]:
    """The values child ``child_id`` was given: the JSON its parent keeps in a tag (v1's
    form); empty when the tag is missing or not a JSON object."""
    text = parent.tags.get(child_id)
    if not text:
        return {}
    try:
        values = json.loads(text)
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


class ChildFollower:
    """The children of one HyperDrive run, updated incrementally.

    Args:
        store: the workspace's tracking store.
        parent_id: the HyperDrive run.
        spec: its tuning spec (the primary metric, its goal, the parameter space).
        max_points: points per child's primary-metric line.
    """

    def __init__(
        self,
        store: TrackingStore,
        parent_id: str,
        spec: TuningSpec,
        *,
        max_points: int = CHILD_POINTS,
    ) -> None:
        self._store = store
        self.parent_id = parent_id
        self._spec = spec
        self._max_points = max_points
        self._children: dict[str, RunRecord] = {}
        self._metrics: dict[str, SeriesFollower] = {}
        self._done: set[str] = set()
        self._parent: RunRecord | None = None

    def update(self, parent: RunRecord) -> bool:
        """Look at the children again; True when anything changed.

        Args:
            parent: the HyperDrive run as it is now (its tags hold the hyperparameters).
        """
        changed = parent.tags != (self._parent.tags if self._parent else None)
        self._parent = parent
        for child in self._store.list_runs(parent_run_id=self.parent_id):
            known = self._children.get(child.run_id)
            if known is None or known.status != child.status:
                changed = True
            self._children[child.run_id] = child
            if child.run_id in self._done:
                continue
            follower = self._metrics.setdefault(
                child.run_id,
                SeriesFollower(
                    self._store,
                    child.run_id,
                    self._spec.primary_metric_name,
                    max_points=self._max_points,
                ),
            )
            changed |= follower.update()
            if child.is_terminal:  # its status was read before its metrics: all are in
                self._done.add(child.run_id)
        return changed

    def rows(self) -> list[ChildRow]:
        """The children, ranked (see the module docstring)."""
        name, goal = self._spec.primary_metric_name, self._spec.goal
        with_metric: list[ChildRow] = []
        without: list[ChildRow] = []
        for child in self._children.values():
            follower = self._metrics.get(child.run_id)
            values = follower.values(name) if follower is not None else []
            row = ChildRow(
                run_id=child.run_id,
                number=child.number,
                status=child.status.value,
                hyperparameters=(
                    hyperparameters_of(self._parent, child.run_id) if self._parent else {}
                ),
                primary_metric=goal.best(values) if values else None,
            )
            (with_metric if values else without).append(row)
        with_metric.sort(key=lambda r: _rank_key(r, goal))
        without.sort(key=lambda r: (r.number, r.run_id))
        return with_metric + without

    def view(self, started_at: float) -> TuningView:
        """The children as the widget shows them.

        Args:
            started_at: when the HyperDrive run started (the zero of time axes).
        """
        rows = self.rows()
        spec = self._spec
        return TuningView(
            primary_metric=spec.primary_metric_name,
            goal=spec.goal.value,
            max_total_runs=spec.max_total_runs,
            children=tuple(rows),
            parallel=parallel_coordinates(rows, spec.space, spec.primary_metric_name, spec.goal),
            child_series=tuple(
                (run_id, series)
                for run_id, follower in self._metrics.items()
                for series in follower.views(started_at)
            ),
        )


def _rank_key(row: ChildRow, goal: Goal) -> tuple[float, str]:
    """Best first: the value itself when minimising, its negation when maximising."""
    value = math.inf if row.primary_metric is None else row.primary_metric
    return (value if goal is Goal.MINIMIZE else -value, row.run_id)

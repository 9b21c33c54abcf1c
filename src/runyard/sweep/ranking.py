"""A HyperDrive run's children ranked by the primary metric, as v1's
``get_children_sorted_by_primary_metric`` ranks them: each child's list of values is
reduced to its best (``max`` for MAXIMIZE, ``min`` for MINIMIZE), best first; children
without the metric last, unless discarded."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runyard.entities.run_details import TUNING_STATE
from runyard.errors import InvalidArgument
from runyard.sweep.children import primary_values
from runyard.tuning.records import Goal
from runyard.tuning.study import StudyState

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.resources import WorkspaceResources


@dataclass(frozen=True)
class ChildSummary:
    """One child of a HyperDrive run.

    Attributes:
        run_id: the child run.
        hyperparameters: its sampled values, as the JSON string v1 keeps in a parent tag.
        best_primary_metric: its best value of the primary metric (None without any).
        status: its status.
    """

    run_id: str
    hyperparameters: str | None
    best_primary_metric: float | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        """v1's dict: ``run_id``, ``hyperparameters``, ``best_primary_metric``, ``status``."""
        return {
            "run_id": self.run_id,
            "hyperparameters": self.hyperparameters,
            "best_primary_metric": self.best_primary_metric,
            "status": self.status,
        }


def study_of(record: RunRecord) -> StudyState:
    """The study state kept on a HyperDrive run.

    Raises:
        InvalidArgument: the run is not a HyperDrive run.
    """
    data = record.details.get(TUNING_STATE)
    if record.run_type != "hyperdrive" or not isinstance(data, dict):
        raise InvalidArgument(
            f"Run {record.run_id} is a {record.run_type!r} run, not a HyperDrive run; "
            "tuning results exist only for runs submitted with a HyperDriveConfig."
        )
    return StudyState.from_json(data)


def best_value(resources: WorkspaceResources, run_id: str, metric: str, goal: Goal) -> float | None:
    """The best value child ``run_id`` logged for ``metric`` (NaN ignored), or None."""
    values = [
        v
        for record in resources.store.get_metrics(run_id, metric)
        for v in primary_values(record.kind, record.value)
        if not math.isnan(v)
    ]
    return goal.best(values) if values else None


def ranked_children(
    resources: WorkspaceResources,
    parent: RunRecord,
    *,
    top: int = 0,
    reverse: bool = False,
    discard_no_metric: bool = False,
    statuses: tuple[str, ...] | None = None,
) -> list[ChildSummary]:
    """The children of HyperDrive run ``parent``, best first (see the module docstring).

    Args:
        resources: the workspace.
        parent: the HyperDrive run's record.
        top: keep this many (0: all).
        reverse: worst first among the children that have the metric.
        discard_no_metric: leave out children without the metric.
        statuses: keep only children in these statuses (None: all).

    Raises:
        InvalidArgument: ``parent`` is not a HyperDrive run, or ``top`` is negative.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise InvalidArgument(f"top must be 0 (all) or a positive int, got {top!r}.")
    spec = study_of(parent).spec
    with_metric: list[ChildSummary] = []
    without: list[ChildSummary] = []
    for child in resources.store.list_runs(parent_run_id=parent.run_id):
        if statuses is not None and child.status.value not in statuses:
            continue
        value = best_value(resources, child.run_id, spec.primary_metric_name, spec.goal)
        summary = ChildSummary(
            child.run_id, parent.tags.get(child.run_id), value, child.status.value
        )
        (with_metric if value is not None else without).append(summary)
    best_first = spec.goal is Goal.MINIMIZE
    with_metric.sort(key=lambda s: (s.best_primary_metric, s.run_id), reverse=not best_first)
    if reverse:
        with_metric.reverse()
    ranked = with_metric + ([] if discard_no_metric else sorted(without, key=_number))
    return ranked[:top] if top else ranked


def _number(summary: ChildSummary) -> tuple[int, str]:
    tail = summary.run_id.rsplit("_", 1)[-1]
    return (int(tail) if tail.isdigit() else 1 << 30, summary.run_id)


def hyperparameters_of(parent: RunRecord) -> dict[str, str]:
    """``{child run id: JSON of its values}``, from the parent's tags (v1's form)."""
    prefix = f"{parent.run_id}_"
    out = {}
    for key, value in parent.tags.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            try:
                json.loads(value)
            except ValueError:
                continue
            out[key] = value
    return out

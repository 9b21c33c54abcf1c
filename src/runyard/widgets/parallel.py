"""The parallel-coordinates chart of a HyperDrive run: one axis per hyperparameter and
one for the primary metric, one line per child that has a value of the metric.

An axis is numeric when every child's value of that parameter is a number (logarithmic
for a ``loguniform``/``qloguniform`` parameter whose values are all positive); otherwise
it is a list of categories, in the ``choice``'s order where there is one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runyard.tuning.records import Goal
from runyard.tuning.space import Choice, LogUniform, QLogUniform
from runyard.widgets.records import Axis, ChildRow, ParallelCoordinates, ParallelLine

if TYPE_CHECKING:
    from runyard.tuning.space import Expression


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _category(value: object) -> str:
    return "None" if value is None else str(value)


def _axis(name: str, values: Sequence[Any], expression: Expression | None) -> Axis:
    present = [v for v in values if v is not None]
    if present and all(_is_number(v) for v in present):
        low, high = float(min(present)), float(max(present))
        log = isinstance(expression, (LogUniform, QLogUniform)) and low > 0
        return Axis(name, "number", log=log, low=low, high=high)
    seen = {_category(v) for v in values}
    order = [_category(o) for o in expression.options] if isinstance(expression, Choice) else []
    categories = [c for c in order if c in seen] + sorted(seen.difference(order))
    return Axis(name, "category", categories=tuple(categories))


def parallel_coordinates(
    rows: Sequence[ChildRow],
    space: Mapping[str, Expression],
    primary_metric: str,
    goal: Goal,
) -> ParallelCoordinates:
    """The chart of ``rows`` (children) that have a value of the primary metric.

    Args:
        rows: the children.
        space: the sweep's parameter space (orders the axes, tells log scales and the
            categories' order); parameters a child has outside it come after.
        primary_metric: the primary metric's name (the last axis).
        goal: whether the metric is maximised or minimised (picks the best line).
    """
    scored = [r for r in rows if r.primary_metric is not None]
    names = [n for n in space if any(n in r.hyperparameters for r in scored)]
    names += sorted({n for r in scored for n in r.hyperparameters}.difference(names))
    axes = [_axis(n, [r.hyperparameters.get(n) for r in scored], space.get(n)) for n in names]
    metric_values = [r.primary_metric for r in scored if r.primary_metric is not None]
    finite = [v for v in metric_values if math.isfinite(v)]
    axes.append(
        Axis(
            primary_metric,
            "number",
            low=min(finite) if finite else None,
            high=max(finite) if finite else None,
        )
    )
    lines = []
    for row in scored:
        values: list[float | str | None] = []
        for axis in axes[:-1]:
            value = row.hyperparameters.get(axis.name)
            if axis.kind == "number":
                values.append(None if value is None else float(value))
            else:
                values.append(_category(value))
        metric = row.primary_metric
        values.append(metric if metric is not None and math.isfinite(metric) else None)
        lines.append(ParallelLine(row.run_id, row.status, tuple(values)))
    best = None
    if finite:
        target = goal.best(finite)
        best = next(r.run_id for r in scored if r.primary_metric == target)
    return ParallelCoordinates(tuple(axes), tuple(lines), best)

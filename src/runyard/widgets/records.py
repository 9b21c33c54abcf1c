"""What the RunDetails widget shows, as typed records, and their JSON for the browser.

The kernel side builds one :class:`RunView` per look at the run; the widget syncs each
part as a traitlet (``to_json``), and the browser only draws what it receives. JSON has
no NaN or infinity, so a point whose value is not finite travels as ``null`` (a gap in
the line) and its value is shown as text (``last``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: How a chart's x axis counts: the step the value was logged with, its number in the
#: series (1, 2, ...), or seconds since the run started.
XKind = Literal["step", "index", "time"]


def finite_or_none(value: float) -> float | None:
    """``value`` when it is a finite number, else None (JSON's gap)."""
    return value if math.isfinite(value) else None


def number_text(value: float | None) -> str:
    """A number as the widget prints it (6 significant digits; NaN and inf by name)."""
    return "" if value is None else f"{value:.6g}"


@dataclass(frozen=True)
class RunHeader:
    """The run itself: who it is and where it stands.

    Attributes:
        run_id: the run.
        experiment: its experiment's name.
        run_type: ``interactive``, ``submitted``, ``child`` or ``hyperdrive``.
        status: its status (``Running``, ``Completed``...).
        display_name: its display name.
        target: its compute target, if any.
        started_at: when it started (seconds since the epoch), if it did.
        ended_at: when it ended, if it did.
        error: why it failed, if it did.
        is_terminal: whether it ended (the widget stops following it then).
        page_url: its page in the web UI (a server workspace), else None.
    """

    run_id: str
    experiment: str
    run_type: str
    status: str
    display_name: str
    target: str | None
    started_at: float | None
    ended_at: float | None
    error: str | None
    is_terminal: bool
    page_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The header as the browser receives it."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class SeriesView:
    """One scalar metric as a line: at most the widget's point budget of values, always
    with the series' lowest, highest and last value among them.

    Attributes:
        name: the metric's name.
        x_kind: what ``x`` counts (see :data:`XKind`).
        x: the x of each point.
        y: the value of each point; None where it is not finite.
        count: how many values the run logged so far, when known (None when the first
            read was downsampled by the store).
        last: the last value logged (NaN and inf as they are).
    """

    name: str
    x_kind: XKind
    x: tuple[float, ...]
    y: tuple[float | None, ...]
    count: int | None
    last: float

    def to_json(self) -> dict[str, Any]:
        """The series as the browser receives it."""
        return {
            "name": self.name,
            "x_kind": self.x_kind,
            "x": list(self.x),
            "y": list(self.y),
            "count": self.count,
            "last": number_text(self.last),
        }


@dataclass(frozen=True)
class LogView:
    """The tail of the run's log.

    Attributes:
        name: the run file followed (``runyard-logs/driver.txt``), "" when none.
        text: its last lines.
    """

    name: str = ""
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        """The log tail as the browser receives it."""
        return {"name": self.name, "text": self.text}


@dataclass(frozen=True)
class ChildRow:
    """One child of a HyperDrive run.

    Attributes:
        run_id: the child run.
        number: its number in the experiment.
        status: its status.
        hyperparameters: the values it was given, by parameter name.
        primary_metric: its best value of the primary metric so far, if any.
    """

    run_id: str
    number: int
    status: str
    hyperparameters: Mapping[str, Any]
    primary_metric: float | None

    def to_json(self) -> dict[str, Any]:
        """The row as the browser receives it."""
        value = self.primary_metric
        return {
            "run_id": self.run_id,
            "number": self.number,
            "status": self.status,
            "hyperparameters": dict(self.hyperparameters),
            "primary_metric": None if value is None else finite_or_none(value),
            "primary_metric_text": number_text(value),
        }


@dataclass(frozen=True)
class Axis:
    """One vertical axis of a parallel-coordinates chart.

    Attributes:
        name: a hyperparameter's name, or the primary metric's (the last axis).
        kind: ``number`` (a scale from ``low`` to ``high``) or ``category`` (one tick
            per category, in order).
        log: a logarithmic scale (a log-uniform parameter).
        low: the scale's bottom (numbers).
        high: the scale's top (numbers).
        categories: the ticks, in order (categories).
    """

    name: str
    kind: Literal["number", "category"]
    log: bool = False
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The axis as the browser receives it."""
        return {
            "name": self.name,
            "kind": self.kind,
            "log": self.log,
            "low": self.low,
            "high": self.high,
            "categories": list(self.categories),
        }


@dataclass(frozen=True)
class ParallelLine:
    """One child in a parallel-coordinates chart: its value on each axis, in axis order
    (a number, a category's text, or None when it has none)."""

    run_id: str
    status: str
    values: tuple[float | str | None, ...]

    def to_json(self) -> dict[str, Any]:
        """The line as the browser receives it."""
        return {"run_id": self.run_id, "status": self.status, "values": list(self.values)}


@dataclass(frozen=True)
class ParallelCoordinates:
    """Hyperparameters against the primary metric, one line per child.

    Attributes:
        axes: the hyperparameters' axes, then the primary metric's.
        lines: the children's lines.
        best_run_id: the child with the best primary metric so far, if any.
    """

    axes: tuple[Axis, ...] = ()
    lines: tuple[ParallelLine, ...] = ()
    best_run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The chart's data as the browser receives it."""
        return {
            "axes": [a.to_json() for a in self.axes],
            "lines": [line.to_json() for line in self.lines],
            "best_run_id": self.best_run_id,
        }


@dataclass(frozen=True)
class TuningView:
    """A HyperDrive run's children so far.

    Attributes:
        primary_metric: the primary metric's name.
        goal: ``maximize`` or ``minimize``.
        max_total_runs: children at most.
        children: one row per child, best first (children without the metric last).
        parallel: the parallel-coordinates chart of the children with a value.
        child_series: each child's primary metric as a line, by child run id.
    """

    primary_metric: str
    goal: str
    max_total_runs: int
    children: tuple[ChildRow, ...] = ()
    parallel: ParallelCoordinates = field(default_factory=ParallelCoordinates)
    child_series: tuple[tuple[str, SeriesView], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The tuning part as the browser receives it."""
        return {
            "primary_metric": self.primary_metric,
            "goal": self.goal,
            "max_total_runs": self.max_total_runs,
            "children": [c.to_json() for c in self.children],
            "parallel": self.parallel.to_json(),
            "child_series": {run_id: s.to_json() for run_id, s in self.child_series},
        }


@dataclass(frozen=True)
class RunView:
    """Everything the widget shows of a run at one look.

    Attributes:
        header: the run's identity and status.
        series: its scalar metrics as lines, by name.
        log: the tail of its log.
        tuning: for a HyperDrive run, its children; else None.
    """

    header: RunHeader
    series: tuple[SeriesView, ...] = ()
    log: LogView = field(default_factory=LogView)
    tuning: TuningView | None = None

"""Following a run's scalar metrics as lines, reading only what is new each time.

Each look asks the store for the values logged since the last one (``read_metrics`` with
``after_seq``), downsampled by the store (``max_points``) so that a run with a million
values costs a few thousand on the first look. The follower keeps at most a few times
the widget's point budget per series and thins them with the store's own rule
(:func:`runyard.tracking.paging.keep_in_buckets`), so every line keeps its lowest,
highest and last values however long it grows.

The x of a point is its step when every value of the series was logged with one, else
its number in the series (1, 2, ...) when the follower saw every value, else the seconds
since the run started: a series that was already long when the widget opened comes
back downsampled, and the numbers of the values the store left out are unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runyard.entities.metric import MetricKind
from runyard.tracking.paging import keep_in_buckets
from runyard.widgets.records import SeriesView, XKind, finite_or_none

if TYPE_CHECKING:
    from runyard.entities.metric import MetricRecord
    from runyard.tracking.store import MetricStore

#: Points per line the widget draws (a line's lowest, highest and last always among them).
MAX_POINTS = 1000


def read_budget(max_points: int) -> int:
    """The ``max_points`` to read with: a series the store downsampled then comes back
    with more than ``max_points`` values (one per bucket at least, ``read // 3`` buckets),
    so a page of at most ``max_points`` values of a name is that name's every value."""
    return 3 * (max_points + 1)


@dataclass
class _Point:
    ordinal: int | None
    step: int | None
    logged_at: float
    value: float


class _Series:
    def __init__(self, name: str) -> None:
        self.name = name
        self.points: list[_Point] = []
        self.count: int | None = 0  # None once a page came back downsampled

    def add(self, values: list[tuple[float, int | None, float]], complete: bool) -> None:
        if not complete:
            self.count = None
        for value, step, logged_at in values:
            ordinal = None
            if self.count is not None:
                self.count += 1
                ordinal = self.count
            self.points.append(_Point(ordinal, step, logged_at, value))

    def thin(self, max_points: int) -> None:
        # Thinning only when twice over budget keeps the work per look small.
        if len(self.points) > 2 * max_points:
            keep = keep_in_buckets([p.value for p in self.points], max_points)
            self.points = [self.points[i] for i in keep]

    def view(self, max_points: int, started_at: float) -> SeriesView:
        points = self.points
        if len(points) > max_points:
            points = [points[i] for i in keep_in_buckets([p.value for p in points], max_points)]
        x_kind: XKind
        if all(p.step is not None for p in points):
            x_kind, x = "step", tuple(float(p.step or 0) for p in points)
        elif self.count is not None:
            x_kind, x = "index", tuple(float(p.ordinal or 0) for p in points)
        else:
            x_kind, x = "time", tuple(round(p.logged_at - started_at, 3) for p in points)
        return SeriesView(
            name=self.name,
            x_kind=x_kind,
            x=x,
            y=tuple(finite_or_none(p.value) for p in points),
            count=self.count,
            last=self.points[-1].value if self.points else math.nan,
        )


def _numbers(record: MetricRecord) -> list[float]:
    """The points one record makes: a scalar one, a list (``log_list``) one per number."""
    if record.kind is MetricKind.SCALAR:
        items: list[Any] = [record.value]
    elif record.kind is MetricKind.LIST and isinstance(record.value, list):
        items = record.value
    else:
        return []
    return [float(v) for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]


class SeriesFollower:
    """The scalar metrics of one run as lines, updated incrementally.

    Args:
        store: the workspace's metric store.
        run_id: the run.
        name: follow only this metric (None: every metric).
        max_points: points per line shown.
    """

    def __init__(
        self,
        store: MetricStore,
        run_id: str,
        name: str | None = None,
        *,
        max_points: int = MAX_POINTS,
    ) -> None:
        self._store = store
        self.run_id = run_id
        self._name = name
        self._max_points = max_points
        self._after_seq = 0
        self._series: dict[str, _Series] = {}

    def update(self) -> bool:
        """Read what was logged since the last call; True when anything was.

        Raises:
            NotFound: the run does not exist.
        """
        page = self._store.read_metrics(
            self.run_id,
            self._name,
            after_seq=self._after_seq,
            max_points=read_budget(self._max_points),
        )
        self._after_seq = page.last_seq
        by_name: dict[str, list[tuple[float, int | None, float]]] = {}
        scalars: dict[str, int] = {}
        for record in page.records:
            numbers = _numbers(record)
            if not numbers:
                continue
            if record.kind is MetricKind.SCALAR:
                scalars[record.name] = scalars.get(record.name, 0) + 1
            by_name.setdefault(record.name, []).extend(
                (v, record.step, record.logged_at) for v in numbers
            )
        for name, values in by_name.items():
            series = self._series.setdefault(name, _Series(name))
            series.add(values, complete=scalars.get(name, 0) <= self._max_points)
            series.thin(self._max_points)
        return bool(by_name)

    def views(self, started_at: float) -> tuple[SeriesView, ...]:
        """Each series as a line, in the order their first values were logged.

        Args:
            started_at: when the run started (the zero of a time axis).
        """
        return tuple(s.view(self._max_points, started_at) for s in self._series.values())

    def values(self, name: str) -> list[float]:
        """The values of series ``name`` the follower holds (its lowest and highest among
        them), NaN left out."""
        series = self._series.get(name)
        if series is None:
            return []
        return [p.value for p in series.points if not math.isnan(p.value)]

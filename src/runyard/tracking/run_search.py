"""What every adapter's ``search_runs`` shares: the checks of its arguments and the page
token, whose position is the last run's place in the order.

A position is ``[key]`` for the default order (newest first) and ``[group, value, key]``
for a ``RunOrder``: ``group`` 0 for the runs that have the sort key (``value`` is theirs),
1 for those that lack it (``value`` None); ``key`` is the run's row key (creation order).
A parameter order has three groups: 0 the runs whose value is a number (``value`` a
float), 1 those whose value is text, 2 those without the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runyard.entities import MetricKind, MetricRecord
from runyard.entities.search import (
    MetricSummary,
    RunAttribute,
    RunFilter,
    RunOrder,
    SortKind,
    check_filters,
    check_metric_names,
    check_order,
)
from runyard.tracking import paging

_SCALAR = MetricKind.SCALAR.value

# A batch's summary of one (run id, name): [last value or None for NaN, last step,
# lowest, highest, count]; lowest and highest None while every value is NaN.
Aggregate = list[Any]

# The type of the sort value of each attribute (metrics are floats, tags and properties str).
_ATTRIBUTE_TYPES: dict[RunAttribute, type] = {
    RunAttribute.CREATED_AT: float,
    RunAttribute.NUMBER: int,
    RunAttribute.STATUS: str,
    RunAttribute.DURATION: float,
    RunAttribute.DISPLAY_NAME: str,
}


@dataclass(frozen=True)
class Search:
    """A checked search: its filters, order, metric columns, page size and where to start."""

    experiment_name: str
    filters: tuple[RunFilter, ...]
    order: RunOrder | None
    metrics: tuple[str, ...]
    max_results: int
    fingerprint: str
    after: list[Any] | None  # the position of the previous page's last run

    def token(self, position: list[Any]) -> str:
        """The token of the page after the run at ``position``."""
        return paging.encode_position(position, self.fingerprint)


def check_search(
    experiment_name: str,
    filters: Sequence[RunFilter],
    order_by: RunOrder | None,
    metrics: Sequence[str],
    max_results: int,
    page_token: str | None,
) -> Search:
    """The arguments of ``search_runs`` checked (InvalidArgument otherwise)."""
    checked = check_filters(filters)
    order = check_order(order_by)
    names = check_metric_names(metrics)
    max_results = paging.check_max_results(max_results)
    fingerprint = paging.query_fingerprint(
        experiment=experiment_name,
        filters=[repr(f) for f in checked],
        order=repr(order),
    )
    after = None
    if page_token is not None:
        after = paging.decode_position(page_token, fingerprint)
        if not _valid_position(after, order):
            raise paging.bad_token(page_token)
    return Search(experiment_name, checked, order, names, max_results, fingerprint, after)


def value_type(order: RunOrder) -> type:
    """The Python type of ``order``'s sort values."""
    if order.kind is SortKind.ATTRIBUTE:
        return _ATTRIBUTE_TYPES[RunAttribute(order.name)]
    return float if order.kind in (SortKind.METRIC, SortKind.PARAMETER) else str


def _valid_position(position: list[Any], order: RunOrder | None) -> bool:
    def is_key(value: Any) -> bool:
        return type(value) is int and value >= 0

    if order is None:
        return len(position) == 1 and is_key(position[0])
    if len(position) != 3 or not is_key(position[2]):
        return False
    group, value = position[0], position[1]
    lacking = 2 if order.kind is SortKind.PARAMETER else 1
    if type(group) is not int or not 0 <= group <= lacking:
        return False
    if group == lacking:
        return value is None
    wanted = str if order.kind is SortKind.PARAMETER and group == 1 else value_type(order)
    if wanted is float:
        # JSON writes a whole float as 1.0, but be lenient with ints from other writers.
        return type(value) in (float, int) and not (type(value) is float and math.isnan(value))
    return type(value) is wanted


def aggregate(records: Sequence[MetricRecord]) -> dict[tuple[str, str], Aggregate]:
    """The summary of each (run id, name) among the batch's scalars (values already
    checked to be numbers)."""
    found: dict[tuple[str, str], Aggregate] = {}
    get = found.get
    for record in records:
        if record.kind != _SCALAR:
            continue
        value = float(record.value) + 0.0  # -0.0 becomes 0.0
        key = (record.run_id, record.name)
        entry = get(key)
        if value != value:  # NaN: the last value, never the lowest or highest
            if entry is None:
                found[key] = [None, record.step, None, None, 1]
            else:
                entry[0], entry[1], entry[4] = None, record.step, entry[4] + 1
            continue
        if entry is None:
            found[key] = [value, record.step, value, value, 1]
            continue
        entry[0], entry[1], entry[4] = value, record.step, entry[4] + 1
        if entry[2] is None or value < entry[2]:
            entry[2] = value
        if entry[3] is None or value > entry[3]:
            entry[3] = value
    return found


def merge(stored: Aggregate | None, batch: Aggregate) -> Aggregate:
    """A stored summary with a later batch's summary merged in (a new list)."""
    if stored is None:
        return list(batch)
    last, step, low, high, count = batch
    if low is None or (stored[2] is not None and stored[2] < low):
        low = stored[2]
    if high is None or (stored[3] is not None and stored[3] > high):
        high = stored[3]
    return [last, step, low, high, stored[4] + count]


def summary(name: str, entry: Aggregate) -> MetricSummary:
    """The entity of a stored summary."""
    last, step, low, high, count = entry
    return MetricSummary(name, math.nan if last is None else last, step, low, high, count)

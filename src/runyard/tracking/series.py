"""Chart lines built from columns: the downsampling of ``MetricStore.read_series_many``
done at C speed, shared by the adapters that bucket in Python.

:func:`kept_indexes` keeps exactly what ``paging.keep_in_buckets`` (the reference) keeps,
but finds each bucket's lowest and highest value with the built-in ``min``/``max`` and
``list.index`` instead of a Python loop per value; only a bucket holding a NaN (which
``min`` cannot order) takes the reference's loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from runyard.entities import MetricSeries


def kept_indexes(values: Sequence[float], max_points: int | None) -> Sequence[int]:
    """The indexes of ``values`` (one scalar series in logging order) that downsampling to
    ``max_points`` keeps, ascending; all of them when ``max_points`` is None or at least
    ``len(values)``. The same indexes as ``paging.keep_in_buckets``."""
    n = len(values)
    if max_points is None or n <= max_points:
        return range(n)
    buckets = max_points // 3
    kept: list[int] = []
    start = 0
    for bucket in range(1, buckets + 1):
        # Value i goes to bucket i * buckets // n, so this bucket ends where that reaches
        # ``bucket``: at ceil(bucket * n / buckets). n > 3 * buckets: no bucket is empty.
        end = -(-bucket * n // buckets)
        chunk = values[start:end]
        total = sum(chunk)
        if total == total:  # no NaN (nor +inf with -inf): min and max order every value
            # Both keep the first of equal values, and index finds the first equal one:
            # the earliest on ties, as the reference.
            low = start + chunk.index(min(chunk))
            high = start + chunk.index(max(chunk))
        else:
            low, high = _low_high(values, start, end)
        last = end - 1
        if low < 0:  # only NaN: the last value alone
            kept.append(last)
        elif low == high:
            kept.extend((low, last) if low < last else (last,))
        else:
            kept.extend(sorted({low, high, last}))
        start = end
    return kept


def _low_high(values: Sequence[float], start: int, end: int) -> tuple[int, int]:
    """The reference's loop: the earliest lowest and highest non-NaN value of
    ``values[start:end]`` (-1 when all are NaN)."""
    low = high = -1
    for i in range(start, end):
        value = values[i]
        if value != value:
            continue
        if low < 0 or value < values[low]:
            low = i
        if high < 0 or value > values[high]:
            high = i
    return low, high


def build(
    run_id: str,
    name: str,
    steps: Sequence[int | None],
    values: Sequence[float],
    times: Sequence[float],
    max_points: int | None,
) -> MetricSeries:
    """The series of ``run_id`` from its whole columns (in logging order), downsampled to
    ``max_points``."""
    kept = kept_indexes(values, max_points)
    if isinstance(kept, range):
        return MetricSeries(run_id, name, tuple(steps), tuple(values), tuple(times))
    return MetricSeries(
        run_id, name, _picked(steps, kept), _picked(values, kept), _picked(times, kept)
    )


def _picked(column: Sequence[Any], indexes: Sequence[int]) -> tuple[Any, ...]:
    if len(indexes) == 1:  # itemgetter of one index returns the item, not a tuple
        return (column[indexes[0]],)
    picked: tuple[Any, ...] = itemgetter(*indexes)(column)
    return picked


def scalar(value: float | None, payload: str | None) -> float:
    """A stored scalar as a float: SQL keeps NaN as NULL, and -0.0 as NULL with the
    payload ``"-0.0"`` (see ``tracking/sql/metrics.py``)."""
    if value is not None:
        return value
    return math.nan if payload is None else float(payload)

"""Metrics: scalars logged one by one, and the structured kinds SDK v1 has."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NamedTuple


class MetricKind(str, enum.Enum):
    """How a metric value was logged; decides how ``get_metrics`` shapes it."""

    SCALAR = "scalar"  # run.log: one number; several calls make a list
    LIST = "list"  # run.log_list: a list of numbers
    ROW = "row"  # run.log_row: one row of a table built row by row
    TABLE = "table"  # run.log_table: a dict of columns
    IMAGE = "image"  # run.log_image: the artifact name of a PNG
    TEXT = "text"  # run.log with a string: SDK v1 keeps text values as text


class MetricRecord(NamedTuple):
    """One logged value. ``value`` is a float for scalars (NaN and +-inf kept as they are),
    a str for text, and a JSON-able object (list, dict, str) for the other kinds.

    A named tuple, not a dataclass: the metric buffer queues plain tuples in this field
    order and turns a whole batch into records with ``_make``, the cheapest way there is.
    """

    run_id: str
    name: str
    value: Any
    kind: MetricKind = MetricKind.SCALAR
    step: int | None = None
    logged_at: float = 0.0


class MetricPage(NamedTuple):
    """Metric records read incrementally (see ``MetricStore.read_metrics``).

    ``last_seq`` is the sequence number of the newest value the read covered (the
    ``after_seq`` it was given when there was none): pass it as ``after_seq`` next time to
    get only the values logged since.
    """

    records: list[MetricRecord]
    last_seq: int


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One run's scalar metric as columns: the line of a chart (see
    ``MetricStore.read_series_many``).

    ``steps[i]``, ``values[i]`` and ``times[i]`` (the ``logged_at`` Unix time) describe the
    same value; the three have the same length and are in logging order. Values are floats,
    NaN and +-inf included; a step is None when the value was logged without one. Columns
    rather than one record per value: a chart of 100 runs is tens of thousands of values,
    and three tuples per line cost a fraction of as many records.
    """

    run_id: str
    name: str
    steps: tuple[int | None, ...] = ()
    values: tuple[float, ...] = ()
    times: tuple[float, ...] = ()

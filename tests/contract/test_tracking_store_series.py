"""TrackingStore contract: chart lines of several runs as columns (``read_series_many``).

Each line must hold exactly the scalar values ``paging.keep_in_buckets`` (the reference)
keeps of the run's series, with their steps and times, whichever way the adapter buckets
(in the database or in Python). Written against the port only, so it runs on every
adapter of the conftest.
"""

from __future__ import annotations

import math

import pytest

from runyard.entities import MetricKind, MetricRecord, MetricSeries, RunStatus
from runyard.errors import InvalidArgument, NotFound
from runyard.tracking.paging import keep_in_buckets
from runyard.tracking.ports import MetricStore

NAN, INF = math.nan, math.inf


def _log(store, run_id, name, values, *, first_step=0):
    store.log_metrics(
        [
            MetricRecord(run_id, name, v, MetricKind.SCALAR, step, 1000.0 + step / 4)
            for step, v in enumerate(values, start=first_step)
        ]
    )


def _wavy(count):
    """Values with ties, NaN, both infinities and a -0.0 among them."""
    values = [float(round(math.sin(i / 5) * (i % 11), 1)) for i in range(count)]
    for index, special in [(7, NAN), (40, INF), (41, NAN), (90, -INF), (120, -0.0)]:
        if index < count:
            values[index] = special
    return values


@pytest.fixture
def chart(store):
    """Runs a (5 values of 'loss' and a list logged as 'loss'), b (300), long (2,000:
    long enough to be bucketed where the data is), c (no 'loss'), nans (only NaN)."""
    store.create_experiment("exp")
    for run_id in ["a", "b", "long", "c", "nans"]:
        store.create_run("exp", run_id=run_id, status=RunStatus.RUNNING)
    _log(store, "a", "loss", [0.5, 0.25, 0.25, 1.0, 0.0])
    store.log_metrics([MetricRecord("a", "loss", [1, 2], MetricKind.LIST, None, 2000.0)])
    _log(store, "b", "loss", _wavy(300))
    _log(store, "long", "loss", _wavy(2000))
    _log(store, "c", "other", [1.0])
    _log(store, "nans", "loss", [NAN] * 40)
    return store


def _expected(store, run_id, name, max_points):
    """The line the reference says: the scalar records of the run, cut by keep_in_buckets."""
    records = [r for r in store.get_metrics(run_id, name) if r.kind == MetricKind.SCALAR]
    kept = (
        range(len(records))
        if max_points is None
        else keep_in_buckets([r.value for r in records], max_points)
    )
    chosen = [records[i] for i in kept]
    return (
        [r.step for r in chosen],
        [repr(float(r.value)) for r in chosen],
        [r.logged_at for r in chosen],
    )


def _columns(line: MetricSeries):
    assert len(line.steps) == len(line.values) == len(line.times)
    return list(line.steps), [repr(v) for v in line.values], list(line.times)


@pytest.mark.parametrize("max_points", [None, 3, 6, 30, 299, 1000])
def test_each_line_holds_what_keep_in_buckets_keeps_of_the_runs_scalar_values(chart, max_points):
    wanted = ["b", "long", "a", "c", "nans"]
    found = chart.read_series_many(wanted, "loss", max_points=max_points)
    assert [line.run_id for line in found] == wanted
    assert {line.name for line in found} == {"loss"}
    for line in found:
        assert _columns(line) == _expected(chart, line.run_id, "loss", max_points)
        if max_points is not None:
            assert len(line.values) <= max_points


@pytest.mark.parametrize("max_points", [None, 3, 30])
def test_lines_hold_the_values_read_metrics_many_returns(chart, max_points):
    pages = chart.read_metrics_many(["long", "b", "a"], "loss", max_points=max_points)
    found = chart.read_series_many(["long", "b", "a"], "loss", max_points=max_points)
    for line in found:
        records = [r for r in pages[line.run_id].records if r.kind == MetricKind.SCALAR]
        assert list(line.steps) == [r.step for r in records]
        assert [repr(v) for v in line.values] == [repr(float(r.value)) for r in records]


def test_special_values_come_back_exactly(chart):
    (line,) = chart.read_series_many(["b"], "loss")
    assert math.isnan(line.values[7]) and math.isnan(line.values[41])
    assert line.values[40] == INF and line.values[90] == -INF
    assert line.values[120] == 0.0 and math.copysign(1.0, line.values[120]) == -1.0
    assert all(type(v) is float for v in line.values)
    assert line.steps[:3] == (0, 1, 2) and line.times[:2] == (1000.0, 1000.25)


def test_a_value_logged_without_a_step_has_none(store):
    store.create_experiment("exp")
    store.create_run("exp", run_id="r", status=RunStatus.RUNNING)
    store.log_metrics(
        [MetricRecord("r", "loss", v, MetricKind.SCALAR, None, 5.0 + v) for v in (3.0, 1.0)]
    )
    (line,) = store.read_series_many(["r"], "loss", max_points=3)
    assert line == MetricSeries("r", "loss", (None, None), (3.0, 1.0), (8.0, 6.0))


def test_runs_without_the_metric_have_empty_lines_and_other_kinds_are_left_out(chart):
    a, c = chart.read_series_many(["a", "c"], "loss")
    assert a.values == (0.5, 0.25, 0.25, 1.0, 0.0) and a.steps == (0, 1, 2, 3, 4)
    assert c == MetricSeries("c", "loss")


def test_only_nan_keeps_each_buckets_last_value(chart):
    (line,) = chart.read_series_many(["nans"], "loss", max_points=6)
    assert line.steps == (19, 39) and all(math.isnan(v) for v in line.values)


def test_each_run_is_read_once_and_no_runs_give_no_lines(chart):
    assert chart.read_series_many([], "loss") == []
    found = chart.read_series_many(["b", "a", "b"], "loss", max_points=30)
    assert [line.run_id for line in found] == ["b", "a"]


def test_values_logged_after_a_read_appear_in_the_next(chart):
    before = chart.read_series_many(["a"], "loss")[0]
    _log(chart, "a", "loss", [7.0], first_step=5)
    after = chart.read_series_many(["a"], "loss")[0]
    assert after.values == (*before.values, 7.0) and after.steps[-1] == 5


@pytest.mark.parametrize(
    ("run_ids", "name", "max_points", "error"),
    [
        (["a", "missing"], "loss", None, NotFound),
        ("a", "loss", None, InvalidArgument),
        ([f"r{i}" for i in range(1001)], "loss", None, InvalidArgument),
        (["a", 3], "loss", None, InvalidArgument),
        (["a"], "", None, InvalidArgument),
        (["a"], "loss", 2, InvalidArgument),
        (["a"], "loss", 3.5, InvalidArgument),
    ],
)
def test_unknown_runs_and_bad_arguments_are_refused(chart, run_ids, name, max_points, error):
    with pytest.raises(error, match="not found" if error is NotFound else None):
        chart.read_series_many(run_ids, name, max_points=max_points)


@pytest.mark.parametrize("max_points", [None, 3, 30])
def test_the_ports_default_gives_the_same_lines_as_the_adapter(chart, max_points):
    wanted = ["long", "a", "c", "b"]
    default = MetricStore.read_series_many(chart, wanted, "loss", max_points=max_points)
    found = chart.read_series_many(wanted, "loss", max_points=max_points)
    assert [_columns(line) for line in default] == [_columns(line) for line in found]

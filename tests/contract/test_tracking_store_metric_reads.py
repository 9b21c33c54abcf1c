"""TrackingStore contract: reading metrics incrementally (after a sequence number) and
downsampled (``max_points``), as policies and live charts do."""

from __future__ import annotations

import math
import random

import pytest

from runyard.entities import MetricKind, MetricPage, MetricRecord, RunStatus
from runyard.errors import InvalidArgument, NotFound
from runyard.tracking.paging import keep_in_buckets

K = MetricKind


@pytest.fixture
def run_id(store):
    store.create_experiment("exp")
    store.create_run("exp", run_id="r", status=RunStatus.RUNNING)
    store.create_run("exp", run_id="other", status=RunStatus.RUNNING)
    return "r"


def _log(store, run_id, name, values, kind=K.SCALAR):
    store.log_metrics(
        [MetricRecord(run_id, name, v, kind, i, 1000.0 + i) for i, v in enumerate(values)]
    )


def _values(page):
    return [(m.name, m.value) for m in page.records]


# -- after a sequence number ----------------------------------------------------------


def test_reading_from_zero_returns_everything_in_logging_order(store, run_id):
    _log(store, run_id, "a", [1.0, 2.0])
    _log(store, run_id, "b", [[1, 2]], K.LIST)
    page = store.read_metrics(run_id)
    assert isinstance(page, MetricPage)
    assert page.records == store.get_metrics(run_id)
    assert page.last_seq > 0


def test_after_seq_returns_exactly_the_values_logged_since_in_order(store, run_id):
    _log(store, run_id, "loss", [5.0, 4.0])
    first = store.read_metrics(run_id)
    store.log_metrics(
        [
            MetricRecord(run_id, "loss", 3.0, logged_at=1.0),
            MetricRecord("other", "loss", 99.0, logged_at=1.0),
            MetricRecord(run_id, "acc", 0.5, logged_at=1.0),
            MetricRecord(run_id, "loss", math.nan, logged_at=1.0),
        ]
    )
    second = store.read_metrics(run_id, after_seq=first.last_seq)
    assert [m.name for m in second.records] == ["loss", "acc", "loss"]
    assert second.records[:2] == [
        MetricRecord(run_id, "loss", 3.0, logged_at=1.0),
        MetricRecord(run_id, "acc", 0.5, logged_at=1.0),
    ]
    assert math.isnan(second.records[2].value)
    assert second.last_seq > first.last_seq
    third = store.read_metrics(run_id, after_seq=second.last_seq)
    assert third == MetricPage([], second.last_seq)


def test_reading_incrementally_page_after_page_adds_up_to_the_whole_series(store, run_id):
    seen = []
    cursor = 0
    for batch in range(5):
        _log(store, run_id, "m", [float(batch * 10 + i) for i in range(batch + 1)])
        page = store.read_metrics(run_id, "m", after_seq=cursor)
        seen.extend(m.value for m in page.records)
        cursor = page.last_seq
    assert seen == [m.value for m in store.get_metrics(run_id, "m")]
    assert len(seen) == 15


def test_after_seq_with_a_name_returns_only_that_names_new_values(store, run_id):
    _log(store, run_id, "a", [1.0])
    cursor = store.read_metrics(run_id, "a").last_seq
    _log(store, run_id, "b", [2.0])
    _log(store, run_id, "a", [3.0])
    assert _values(store.read_metrics(run_id, "a", after_seq=cursor)) == [("a", 3.0)]
    assert store.read_metrics(run_id, "never", after_seq=cursor) == MetricPage([], cursor)


def test_read_metrics_of_an_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound, match="ghost"):
        store.read_metrics("ghost")


@pytest.mark.parametrize(
    ("after_seq", "max_points"), [(-1, None), ("3", None), (0, 2), (0, 0), (0, 3.5)]
)
def test_bad_read_limits_raise_invalid_argument(store, run_id, after_seq, max_points):
    with pytest.raises(InvalidArgument):
        store.read_metrics(run_id, after_seq=after_seq, max_points=max_points)


# -- downsampled ----------------------------------------------------------------------


def test_a_series_no_longer_than_max_points_comes_back_whole(store, run_id):
    _log(store, run_id, "m", [3.0, 1.0, 2.0])
    page = store.read_metrics(run_id, max_points=3)
    assert page.records == store.get_metrics(run_id)


def test_downsampling_keeps_the_count_bound_the_peaks_and_the_last_value(store, run_id):
    rng = random.Random(7)
    values = [rng.uniform(-1.0, 1.0) for _ in range(5000)]
    values[1234], values[4321] = 50.0, -50.0  # a spike and a dip
    _log(store, run_id, "loss", values)
    _log(store, run_id, "acc", [float(i) for i in range(200)])
    for max_points in (3, 10, 100, 999):
        page = store.read_metrics(run_id, max_points=max_points)
        loss = [m for m in page.records if m.name == "loss"]
        acc = [m for m in page.records if m.name == "acc"]
        assert 0 < len(loss) <= max_points
        assert len(acc) <= max_points
        kept = [m.value for m in loss]
        assert max(kept) == 50.0 and min(kept) == -50.0
        assert loss[-1].step == 4999 and acc[-1].step == 199
        assert [m.step for m in loss] == sorted(m.step for m in loss)  # logging order


def test_downsampling_keeps_exactly_each_buckets_lowest_highest_and_last(store, run_id):
    rng = random.Random(11)
    values = [float(rng.randint(0, 20)) for _ in range(1000)]  # many ties
    values[10:13] = [math.inf, -math.inf, math.nan]
    values[-1] = math.nan
    _log(store, run_id, "m", values)
    page = store.read_metrics(run_id, "m", max_points=30)
    expected = keep_in_buckets(values, 30)
    assert [m.step for m in page.records] == expected
    assert math.isnan(page.records[-1].value)
    assert math.inf in [m.value for m in page.records]
    assert -math.inf in [m.value for m in page.records]


def test_downsampling_reads_only_the_values_after_after_seq(store, run_id):
    _log(store, run_id, "m", [100.0] * 50)
    cursor = store.read_metrics(run_id).last_seq
    store.log_metrics(
        [MetricRecord(run_id, "m", float(i), step=1000 + i, logged_at=1.0) for i in range(300)]
    )
    page = store.read_metrics(run_id, "m", after_seq=cursor, max_points=12)
    assert len(page.records) <= 12
    assert {m.step for m in page.records} >= {1000, 1299}
    assert 100.0 not in [m.value for m in page.records]
    assert page.last_seq == store.read_metrics(run_id).last_seq


def test_downsampling_returns_non_scalar_records_whole(store, run_id):
    _log(store, run_id, "rows", [{"i": i} for i in range(20)], K.ROW)
    _log(store, run_id, "loss", [float(i) for i in range(20)])
    page = store.read_metrics(run_id, max_points=6)
    assert [m.value for m in page.records if m.kind is K.ROW] == [{"i": i} for i in range(20)]
    assert len([m for m in page.records if m.kind is K.SCALAR]) <= 6


def test_a_series_of_only_nan_keeps_the_last_value_of_each_bucket(store, run_id):
    _log(store, run_id, "m", [math.nan] * 10)
    page = store.read_metrics(run_id, max_points=6)
    assert [m.step for m in page.records] == keep_in_buckets([math.nan] * 10, 6) == [4, 9]

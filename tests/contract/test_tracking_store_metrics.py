"""TrackingStore contract: metrics are kept exactly, in logging order."""

from __future__ import annotations

import math

import pytest

from runyard.entities import MetricKind, MetricRecord, RunStatus
from runyard.errors import InvalidArgument, NotFound

K = MetricKind


@pytest.fixture
def run_id(store):
    store.create_experiment("exp")
    store.create_run("exp", run_id="r", status=RunStatus.RUNNING)
    return "r"


def _values(records):
    return [(m.name, m.value) for m in records]


def test_scalars_come_back_with_their_step_time_and_kind(store, run_id):
    logged = [
        MetricRecord(run_id, "loss", 0.5, step=1, logged_at=100.25),
        MetricRecord(run_id, "loss", 0.25, step=2, logged_at=101.5),
        MetricRecord(run_id, "count", 7, logged_at=102.0),
    ]
    store.log_metrics(logged)
    got = store.get_metrics(run_id)
    assert got == [
        MetricRecord(run_id, "loss", 0.5, K.SCALAR, 1, 100.25),
        MetricRecord(run_id, "loss", 0.25, K.SCALAR, 2, 101.5),
        MetricRecord(run_id, "count", 7.0, K.SCALAR, None, 102.0),
    ]
    assert all(isinstance(m.kind, MetricKind) for m in got)


def test_text_values_come_back_as_text_in_logging_order_with_scalars(store, run_id):
    store.log_metrics(
        [
            MetricRecord(run_id, "note", "first", K.TEXT, step=1, logged_at=1.0),
            MetricRecord(run_id, "note", 2.0, K.SCALAR, logged_at=2.0),
            MetricRecord(run_id, "note", "NaN \u00e9\n", K.TEXT, logged_at=3.0),
        ]
    )
    got = store.get_metrics(run_id, "note")
    assert [(m.value, m.kind) for m in got] == [
        ("first", K.TEXT),
        (2.0, K.SCALAR),
        ("NaN \u00e9\n", K.TEXT),
    ]
    assert got[0].step == 1
    page = store.read_metrics(run_id, "note", max_points=3)
    assert [m.value for m in page.records] == ["first", 2.0, "NaN \u00e9\n"]


def test_nan_and_infinities_round_trip_exactly(store, run_id):
    values = [math.nan, math.inf, -math.inf, 0.0, -1.5, 1e308, 5e-324, 0.1 + 0.2]
    store.log_metrics([MetricRecord(run_id, "x", v) for v in values])
    got = [m.value for m in store.get_metrics(run_id, "x")]
    assert math.isnan(got[0])
    assert got[1:] == values[1:]
    assert all(isinstance(v, float) for v in got)


def test_negative_zero_keeps_its_sign_among_other_scalars(store, run_id):
    values = [1.0, -0.0, 0.0, -0.0, math.nan, 2.0]
    store.log_metrics([MetricRecord(run_id, "z", v, step=i) for i, v in enumerate(values)])
    got = store.get_metrics(run_id, "z")
    assert [m.step for m in got] == list(range(len(values)))
    assert [math.copysign(1.0, m.value) for m in got[:4]] == [1.0, -1.0, 1.0, -1.0]
    assert math.isnan(got[4].value) and got[5].value == 2.0
    assert all(m.kind is K.SCALAR for m in got)


def test_structured_kinds_keep_their_json_including_nan_and_infinities(store, run_id):
    table = {"epoch": [1, 2], "acc": [0.5, math.inf]}
    logged = [
        MetricRecord(run_id, "curve", [1.0, math.nan, -math.inf], K.LIST),
        MetricRecord(run_id, "rows", {"epoch": 1, "acc": 0.9}, K.ROW),
        MetricRecord(run_id, "rows", {"epoch": 2, "acc": 0.95}, K.ROW),
        MetricRecord(run_id, "table", table, K.TABLE),
        MetricRecord(run_id, "plot", "outputs/plot.png", K.IMAGE),
    ]
    store.log_metrics(logged)
    got = store.get_metrics(run_id)
    assert [m.kind for m in got] == [K.LIST, K.ROW, K.ROW, K.TABLE, K.IMAGE]
    curve = got[0].value
    assert curve[0] == 1.0 and math.isnan(curve[1]) and curve[2] == -math.inf
    assert got[1].value == {"epoch": 1, "acc": 0.9}
    assert got[3].value == table and list(got[3].value) == ["epoch", "acc"]
    assert got[4].value == "outputs/plot.png"


def test_records_come_back_in_logging_order_across_names_kinds_and_batches(store, run_id):
    first = [
        MetricRecord(run_id, "b", 1.0),
        MetricRecord(run_id, "a", 2.0),
        MetricRecord(run_id, "b", [3], K.LIST),
        MetricRecord(run_id, "b", 4.0),
    ]
    second = [MetricRecord(run_id, "a", 5.0), MetricRecord(run_id, "c", 6.0)]
    store.log_metrics(first)
    store.log_metrics(second)
    assert _values(store.get_metrics(run_id)) == [
        ("b", 1.0),
        ("a", 2.0),
        ("b", [3]),
        ("b", 4.0),
        ("a", 5.0),
        ("c", 6.0),
    ]
    assert _values(store.get_metrics(run_id, "b")) == [("b", 1.0), ("b", [3]), ("b", 4.0)]
    assert store.get_metrics(run_id, "never-logged") == []


def test_one_batch_may_hold_metrics_of_several_runs(store, run_id):
    store.create_run("exp", run_id="other", status=RunStatus.RUNNING)
    store.log_metrics([MetricRecord(run_id, "m", 1.0), MetricRecord("other", "m", 2.0)])
    assert _values(store.get_metrics(run_id)) == [("m", 1.0)]
    assert _values(store.get_metrics("other")) == [("m", 2.0)]


def test_a_batch_naming_an_unknown_run_raises_not_found_and_writes_nothing(store, run_id):
    with pytest.raises(NotFound, match="ghost"):
        store.log_metrics([MetricRecord(run_id, "m", 1.0), MetricRecord("ghost", "m", 2.0)])
    assert store.get_metrics(run_id) == []


def test_a_batch_with_a_non_numeric_scalar_raises_invalid_argument_and_writes_nothing(
    store, run_id
):
    with pytest.raises(InvalidArgument, match="'bad'"):
        store.log_metrics([MetricRecord(run_id, "ok", 1.0), MetricRecord(run_id, "bad", "x")])
    assert store.get_metrics(run_id) == []


def test_an_empty_batch_is_accepted(store, run_id):
    store.log_metrics([])
    assert store.get_metrics(run_id) == []


def test_get_metrics_of_an_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound, match="ghost"):
        store.get_metrics("ghost")


def test_a_batch_of_the_largest_size_is_written_whole_and_in_order(store, run_id):
    n = 100_000
    store.log_metrics(
        [MetricRecord(run_id, "loss", float(i), step=i, logged_at=float(i)) for i in range(n)]
    )
    got = store.get_metrics(run_id, "loss")
    assert len(got) == n
    assert [m.step for m in got] == list(range(n))
    assert got[-1].value == float(n - 1)


def test_a_batch_with_an_unknown_kind_raises_invalid_argument_and_writes_nothing(store, run_id):
    with pytest.raises(InvalidArgument, match="'bogus'"):
        store.log_metrics([MetricRecord(run_id, "ok", 1.0), MetricRecord(run_id, "m", 1, "bogus")])
    assert store.get_metrics(run_id) == []


def test_a_batch_with_a_non_json_payload_raises_invalid_argument(store, run_id):
    with pytest.raises(InvalidArgument, match="JSON"):
        store.log_metrics([MetricRecord(run_id, "t", {"a": object()}, K.TABLE)])
    assert store.get_metrics(run_id) == []


def test_a_metric_without_a_time_raises_invalid_argument_and_writes_nothing(store, run_id):
    with pytest.raises(InvalidArgument):
        store.log_metrics(
            [MetricRecord(run_id, "ok", 1.0), MetricRecord(run_id, "m", 2.0, logged_at=None)]
        )
    assert store.get_metrics(run_id) == []


def test_a_batch_sent_again_with_its_id_is_stored_once(store, run_id):
    batch = [
        MetricRecord(run_id, "loss", v, step=i, logged_at=1.0 + i) for i, v in enumerate((3, 2))
    ]
    store.log_metrics(batch, batch_id="b-0001")
    store.log_metrics(batch, batch_id="b-0001")  # a retry after a lost answer
    store.log_metrics(batch[:1], batch_id="b_0002")  # another batch: stored
    assert [m.value for m in store.get_metrics(run_id)] == [3.0, 2.0, 3.0]
    assert store.read_metrics(run_id).records == store.get_metrics(run_id)


def test_a_refused_batch_leaves_its_id_free_for_the_retry(store, run_id):
    bad = [MetricRecord("nope", "loss", 1.0, logged_at=1.0)]
    with pytest.raises(NotFound):
        store.log_metrics(bad, batch_id="retry-me")
    store.log_metrics([MetricRecord(run_id, "loss", 1.0, logged_at=1.0)], batch_id="retry-me")
    assert [m.value for m in store.get_metrics(run_id)] == [1.0]


@pytest.mark.parametrize("batch_id", ["", "a" * 65, "has space", "../x", "é"])
def test_a_malformed_batch_id_is_refused(store, run_id, batch_id):
    with pytest.raises(InvalidArgument, match="batch id"):
        store.log_metrics([MetricRecord(run_id, "loss", 1.0, logged_at=1.0)], batch_id=batch_id)
    assert store.get_metrics(run_id) == []

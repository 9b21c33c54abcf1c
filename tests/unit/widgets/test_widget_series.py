"""The widget's metric lines: read incrementally, downsampled, every peak kept."""

from __future__ import annotations

import math

import pytest

from runyard.core import Experiment
from runyard.entities.metric import MetricKind, MetricRecord
from runyard.entities.run import RunStatus
from runyard.widgets.series import SeriesFollower, read_budget


class CountingStore:
    """The real store, with each ``read_metrics`` call's arguments and result size kept."""

    def __init__(self, store):
        self._store = store
        self.reads: list[tuple[int, int]] = []  # (after_seq, records returned)

    def read_metrics(self, run_id, name=None, *, after_seq=0, max_points=None):
        page = self._store.read_metrics(run_id, name, after_seq=after_seq, max_points=max_points)
        self.reads.append((after_seq, len(page.records)))
        return page


@pytest.fixture
def run_id(ws):
    Experiment(ws, "charts")
    return ws.resources.store.create_run("charts", run_id="r_1", status=RunStatus.RUNNING).run_id


def log(ws, run_id, name, values, *, steps=None, kind=MetricKind.SCALAR, at=100.0):
    records = [
        MetricRecord(run_id, name, v, kind, None if steps is None else steps[i], at + i)
        for i, v in enumerate(values)
    ]
    ws.resources.store.log_metrics(records)


def only(views, name):
    (view,) = [v for v in views if v.name == name]
    return view


def test_each_update_reads_only_the_values_logged_since_the_last(ws, run_id):
    store = CountingStore(ws.resources.store)
    follower = SeriesFollower(store, run_id)
    log(ws, run_id, "loss", [3.0, 2.0])
    assert follower.update() is True
    assert follower.update() is False  # nothing new: nothing changed
    log(ws, run_id, "loss", [1.0])
    assert follower.update() is True
    assert [n for _, n in store.reads] == [2, 0, 1]
    assert store.reads[1][0] > 0 and store.reads[2][0] == store.reads[1][0]
    view = only(follower.views(started_at=100.0), "loss")
    assert view.x_kind == "index" and view.x == (1.0, 2.0, 3.0)
    assert view.y == (3.0, 2.0, 1.0) and view.count == 3 and view.last == 1.0


def test_values_logged_with_steps_are_drawn_by_step(ws, run_id):
    follower = SeriesFollower(ws.resources.store, run_id)
    log(ws, run_id, "acc", [0.5, 0.7, 0.9], steps=[10, 20, 30])
    follower.update()
    view = only(follower.views(started_at=0.0), "acc")
    assert view.x_kind == "step" and view.x == (10.0, 20.0, 30.0)


def test_a_long_series_comes_back_downsampled_with_its_peaks_and_last_value(ws, run_id):
    values = [math.sin(i / 50) for i in range(20_000)]
    values[12_345] = 50.0  # a spike that must survive
    values[777] = -50.0
    log(ws, run_id, "signal", values)
    store = CountingStore(ws.resources.store)
    follower = SeriesFollower(store, run_id, max_points=300)
    follower.update()
    assert store.reads[0][1] <= read_budget(300)  # the store downsampled, not the widget
    view = only(follower.views(started_at=100.0), "signal")
    assert len(view.y) <= 300
    assert 50.0 in view.y and -50.0 in view.y and view.y[-1] == values[-1]
    # The numbers of the values the store left out are unknown: x is time.
    assert view.x_kind == "time" and view.count is None
    assert view.x[-1] == pytest.approx(19_999.0)


def test_a_series_growing_live_is_thinned_but_keeps_numbers_and_peaks(ws, run_id):
    follower = SeriesFollower(ws.resources.store, run_id, max_points=60)
    logged = []
    for chunk in range(10):  # ten looks of 50 values each: every page is whole
        values = [float(chunk * 50 + i) % 37 for i in range(50)]
        if chunk == 4:
            values[7] = 1000.0
        logged += values
        log(ws, run_id, "loss", values, at=100.0 + chunk * 50)
        follower.update()
    view = only(follower.views(started_at=100.0), "loss")
    assert len(view.y) <= 60 and view.count == 500
    assert view.x_kind == "index"
    peak = view.y.index(1000.0)
    assert view.x[peak] == 4 * 50 + 7 + 1  # its number in the series, 1-based
    assert min(v for v in view.y if v is not None) == min(logged)
    assert view.x[-1] == 500.0 and view.y[-1] == logged[-1]


def test_nan_and_infinity_are_gaps_in_the_line_and_text_as_the_last_value(ws, run_id):
    follower = SeriesFollower(ws.resources.store, run_id)
    log(ws, run_id, "loss", [1.0, math.nan, math.inf, 2.0, -math.inf])
    follower.update()
    view = only(follower.views(started_at=100.0), "loss")
    assert view.y == (1.0, None, None, 2.0, None)
    assert view.to_json()["last"] == "-inf" and view.to_json()["y"][1] is None


def test_lists_become_points_and_rows_tables_and_text_are_not_lines(ws, run_id):
    follower = SeriesFollower(ws.resources.store, run_id)
    log(ws, run_id, "curve", [[0.1, 0.2, 0.3]], kind=MetricKind.LIST)
    log(ws, run_id, "table", [{"a": [1, 2]}], kind=MetricKind.TABLE)
    log(ws, run_id, "note", ["hello"], kind=MetricKind.TEXT)
    follower.update()
    views = follower.views(started_at=100.0)
    assert [v.name for v in views] == ["curve"]
    assert views[0].y == (0.1, 0.2, 0.3) and views[0].x == (1.0, 2.0, 3.0)


def test_one_metric_only_when_asked_for_one(ws, run_id):
    follower = SeriesFollower(ws.resources.store, run_id, "acc")
    log(ws, run_id, "acc", [0.1, 0.9])
    log(ws, run_id, "loss", [5.0])
    follower.update()
    assert [v.name for v in follower.views(0.0)] == ["acc"]
    assert follower.values("acc") == [0.1, 0.9] and follower.values("loss") == []

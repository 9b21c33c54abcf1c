"""The widget's view of a HyperDrive run: the child table and the parallel coordinates."""

from __future__ import annotations

import json
import math

import pytest

from runyard.core import Experiment
from runyard.entities.metric import MetricRecord
from runyard.entities.run import RunStatus
from runyard.entities.run_details import TUNING_STATE
from runyard.tuning.records import Goal
from runyard.tuning.space import Choice, LogUniform, Uniform
from runyard.tuning.study import StudyState, TuningSpec
from runyard.widgets.children import ChildFollower
from runyard.widgets.parallel import parallel_coordinates
from runyard.widgets.records import ChildRow

SPACE = {
    "--batch-size": Choice((100, 25, 50)),
    "--learning-rate": LogUniform(-6.0, -1.0),
    "--dropout": Uniform(0.0, 0.5),
}


def spec(goal: str = "maximize") -> TuningSpec:
    return TuningSpec(
        space=SPACE,
        sampler="random",
        primary_metric_name="Accuracy",
        goal=Goal(goal),
        max_total_runs=6,
        max_concurrent_runs=2,
    )


class Sweep:
    """A HyperDrive parent and its children in a real store, written as the controller
    and the children's scripts write them."""

    def __init__(self, ws, goal="maximize"):
        self.store = ws.resources.store
        self.spec = spec(goal)
        Experiment(ws, "tune")
        state = StudyState.new(self.spec, started_at=1000.0).to_json()
        self.store.create_run(
            "tune",
            run_id="hd",
            status=RunStatus.RUNNING,
            run_type="hyperdrive",
            details={TUNING_STATE: state},
        )

    def child(self, n, params, status=RunStatus.RUNNING):
        run_id = f"hd_{n}"
        self.store.create_run(
            "tune", run_id=run_id, status=status, parent_run_id="hd", run_type="submitted"
        )
        self.store.set_tags("hd", {run_id: json.dumps(params, sort_keys=True)})
        return run_id

    def log(self, run_id, *values, name="Accuracy"):
        self.store.log_metrics([MetricRecord(run_id, name, v, logged_at=1001.0) for v in values])

    def parent(self):
        return self.store.get_run("hd")


@pytest.fixture
def sweep(ws):
    return Sweep(ws)


def test_children_are_ranked_best_first_with_their_values_and_status(sweep):
    a = sweep.child(0, {"--batch-size": 25, "--learning-rate": 0.01, "--dropout": 0.1})
    b = sweep.child(1, {"--batch-size": 50, "--learning-rate": 0.001, "--dropout": 0.2})
    c = sweep.child(2, {"--batch-size": 100, "--learning-rate": 0.1, "--dropout": 0.3})
    sweep.log(a, 0.5, 0.8, 0.7)  # best 0.8, not the last value
    sweep.log(b, 0.9)
    follower = ChildFollower(sweep.store, "hd", sweep.spec)
    assert follower.update(sweep.parent()) is True
    rows = follower.rows()
    assert [r.run_id for r in rows] == [b, a, c]  # c has no value yet: last
    assert [r.primary_metric for r in rows] == [0.9, 0.8, None]
    assert rows[1].hyperparameters == {
        "--batch-size": 25,
        "--dropout": 0.1,
        "--learning-rate": 0.01,
    }
    assert rows[0].status == "Running"
    sweep.store.set_run_status(c, RunStatus.FAILED)
    assert follower.update(sweep.parent()) is True
    assert follower.rows()[2].status == "Failed"
    assert follower.update(sweep.parent()) is False  # nothing moved


def test_minimize_ranks_the_lowest_first_and_nan_is_ignored(ws):
    sweep = Sweep(ws, goal="minimize")
    a = sweep.child(0, {"--dropout": 0.1})
    b = sweep.child(1, {"--dropout": 0.2})
    sweep.log(a, 0.4, math.nan)
    sweep.log(b, 0.3, 0.6)
    follower = ChildFollower(sweep.store, "hd", sweep.spec)
    follower.update(sweep.parent())
    assert [(r.run_id, r.primary_metric) for r in follower.rows()] == [(b, 0.3), (a, 0.4)]


def test_an_ended_child_is_read_once_more_then_left_alone(sweep, monkeypatch):
    done = sweep.child(0, {"--dropout": 0.1}, status=RunStatus.COMPLETED)
    going = sweep.child(1, {"--dropout": 0.2})
    sweep.log(done, 0.7)
    reads: list[str] = []
    real = sweep.store.read_metrics

    def counting(run_id, *args, **kwargs):
        reads.append(run_id)
        return real(run_id, *args, **kwargs)

    monkeypatch.setattr(sweep.store, "read_metrics", counting)
    follower = ChildFollower(sweep.store, "hd", sweep.spec)
    follower.update(sweep.parent())
    follower.update(sweep.parent())
    assert reads.count(done) == 1 and reads.count(going) == 2
    assert follower.rows()[0].primary_metric == 0.7


def test_the_tuning_view_has_each_childs_metric_as_a_line(sweep):
    a = sweep.child(0, {"--dropout": 0.1})
    sweep.log(a, 0.1, 0.2, 0.3)
    sweep.log(a, 9.0, name="loss")  # not the primary metric: not in the tuning view
    follower = ChildFollower(sweep.store, "hd", sweep.spec)
    follower.update(sweep.parent())
    view = follower.view(started_at=1000.0).to_json()
    assert view["primary_metric"] == "Accuracy" and view["goal"] == "maximize"
    assert view["max_total_runs"] == 6
    assert view["child_series"][a]["y"] == [0.1, 0.2, 0.3]
    assert view["children"][0]["primary_metric_text"] == "0.3"


def row(run_id, metric, **params):
    return ChildRow(run_id, int(run_id[-1]), "Completed", params, metric)


def test_parallel_coordinates_axes_follow_the_space_with_the_metric_last():
    rows = [
        row("hd_0", 0.8, **{"--batch-size": 50, "--learning-rate": 0.01, "--dropout": 0.1}),
        row("hd_1", 0.9, **{"--batch-size": 25, "--learning-rate": 0.001, "--dropout": 0.3}),
        row("hd_2", None, **{"--batch-size": 100, "--learning-rate": 0.1, "--dropout": 0.2}),
    ]
    chart = parallel_coordinates(rows, SPACE, "Accuracy", Goal.MAXIMIZE)
    names = [a.name for a in chart.axes]
    assert names == ["--batch-size", "--learning-rate", "--dropout", "Accuracy"]
    batch, rate, dropout, metric = chart.axes
    # Numbers all: a numeric axis. A choice of numbers is still numbers.
    assert batch.kind == "number" and (batch.low, batch.high) == (25.0, 50.0)
    assert rate.kind == "number" and rate.log is True
    assert dropout.kind == "number" and dropout.log is False
    assert (metric.low, metric.high) == (0.8, 0.9)
    # Only children with a value are lines; the best is named.
    assert [line.run_id for line in chart.lines] == ["hd_0", "hd_1"]
    assert chart.lines[1].values == (25.0, 0.001, 0.3, 0.9)
    assert chart.best_run_id == "hd_1"
    assert parallel_coordinates(rows, SPACE, "Accuracy", Goal.MINIMIZE).best_run_id == "hd_0"


def test_categories_keep_the_choice_order_and_mixed_values_are_categories():
    space = {"--optimizer": Choice(("sgd", "adam", "rmsprop")), "--layers": Choice((1, "auto"))}
    rows = [
        row("hd_0", 0.5, **{"--optimizer": "rmsprop", "--layers": "auto"}),
        row("hd_1", 0.6, **{"--optimizer": "sgd", "--layers": 1}),
        row("hd_2", 0.7, **{"--optimizer": "adam"}),
    ]
    chart = parallel_coordinates(rows, space, "acc", Goal.MAXIMIZE)
    optimizer, layers, _ = chart.axes
    assert optimizer.kind == "category" and optimizer.categories == ("sgd", "adam", "rmsprop")
    assert layers.kind == "category" and layers.categories == ("1", "auto", "None")
    assert chart.lines[2].values == ("adam", "None", 0.7)


def test_a_parameter_outside_the_space_gets_an_axis_after_the_spaces():
    rows = [row("hd_0", 1.0, **{"--dropout": 0.1, "--extra": 3})]
    chart = parallel_coordinates(rows, SPACE, "acc", Goal.MAXIMIZE)
    assert [a.name for a in chart.axes] == ["--dropout", "--extra", "acc"]


def test_a_log_axis_with_a_value_not_above_zero_is_linear():
    space = {"--lr": LogUniform(-3.0, 0.0)}
    rows = [row("hd_0", 1.0, **{"--lr": 0.0}), row("hd_1", 2.0, **{"--lr": 0.5})]
    (lr, _) = parallel_coordinates(rows, space, "acc", Goal.MAXIMIZE).axes
    assert lr.log is False


def test_an_infinite_metric_has_no_place_on_the_metric_axis():
    rows = [row("hd_0", math.inf, **{"--dropout": 0.1}), row("hd_1", 0.5, **{"--dropout": 0.2})]
    chart = parallel_coordinates(rows, SPACE, "acc", Goal.MAXIMIZE)
    assert (chart.axes[-1].low, chart.axes[-1].high) == (0.5, 0.5)
    assert chart.lines[0].values[-1] is None and chart.best_run_id == "hd_1"
    assert json.dumps(chart.to_json(), allow_nan=False)  # nothing JSON cannot carry


def test_the_watcher_of_a_hyperdrive_run_shows_its_children(sweep, ws):
    from runyard.widgets.watcher import RunWatcher

    a = sweep.child(0, {"--dropout": 0.1})
    sweep.log(a, 0.75)
    view = RunWatcher(ws.resources, "hd").poll()
    assert view.header.run_type == "hyperdrive" and view.tuning is not None
    assert [(c.run_id, c.primary_metric) for c in view.tuning.children] == [(a, 0.75)]
    assert view.tuning.parallel.best_run_id == a


def test_a_hyperdrive_run_whose_study_is_not_recorded_yet_has_no_tuning_view(ws):
    from runyard.widgets.watcher import RunWatcher

    Experiment(ws, "tune")
    ws.resources.store.create_run(
        "tune", run_id="hd", status=RunStatus.QUEUED, run_type="hyperdrive"
    )
    assert RunWatcher(ws.resources, "hd").poll().tuning is None

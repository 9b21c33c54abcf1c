"""ChildRunner, the TrialRunner over child runs, against a real store and a recording
backend: idempotent submission, incremental reports, cancel with a reason."""

from __future__ import annotations

import json

import pytest

from runyard.compute.backend import ComputeBackend, TargetStatus
from runyard.core import Experiment
from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.definition import RunDefinition
from runyard.entities.metric import MetricKind, MetricRecord
from runyard.entities.run import RunStatus
from runyard.sweep.children import ChildRunner


class RecordingBackend(ComputeBackend):
    """Starts nothing; remembers what it was asked."""

    def __init__(self, resources):
        super().__init__(resources, ComputeTargetRecord("local", "local", {}))
        self.launched: list[str] = []
        self.canceled: list[str] = []

    def launch(self, run_id, definition):
        self.launched.append(run_id)

    def cancel(self, run_id):
        self.canceled.append(run_id)

    def status(self):
        return TargetStatus("Succeeded")


@pytest.fixture
def parts(ws):
    store = ws.resources.store
    Experiment(ws, "tune")
    parent = store.create_run(
        "tune", run_id="hd_1", status=RunStatus.RUNNING, run_type="hyperdrive"
    )
    base = RunDefinition(
        script="train.py", source_directory="/src", target="local", arguments=("--epochs", "3")
    )
    backend = RecordingBackend(ws.resources)
    lines: list[str] = []
    runner = ChildRunner(ws.resources, parent, base, "acc", lines.append, backend=backend)
    return runner, backend, store, lines


def test_submit_creates_the_child_once_and_tags_the_parent_with_its_values(parts):
    runner, backend, store, _ = parts
    assert runner.submit(0, {"--lr": 0.5}, None) == "hd_1_0"
    assert runner.submit(0, {"--lr": 0.5}, None) == "hd_1_0"  # a resumed controller
    assert backend.launched == ["hd_1_0"]
    child = store.get_run("hd_1_0")
    assert child.parent_run_id == "hd_1" and child.run_type == "submitted"
    assert child.details["runDefinition"]["arguments"] == ["--epochs", "3", "--lr", "0.5"]
    assert json.loads(store.get_run("hd_1").tags["hd_1_0"]) == {"--lr": 0.5}


def test_a_child_created_but_never_launched_is_launched_on_resubmit(parts):
    runner, backend, store, _ = parts
    store.create_run(
        "tune", run_id="hd_1_3", status=RunStatus.QUEUED, parent_run_id="hd_1", run_type="submitted"
    )
    runner.submit(3, {"--lr": 1}, None)
    assert backend.launched == ["hd_1_3"]


def test_poll_returns_only_new_reports_numbered_by_interval(parts):
    runner, _, store, _ = parts
    run_id = runner.submit(0, {"--lr": 0.5}, None)
    store.set_run_status(run_id, RunStatus.RUNNING)

    def log(*values, kind=MetricKind.SCALAR):
        store.log_metrics([MetricRecord(run_id, "acc", v, kind, logged_at=1.0) for v in values])

    log(0.1, 0.2)
    store.log_metrics([MetricRecord(run_id, "loss", 9.0, logged_at=1.0)])
    (update,) = runner.poll({run_id: 0})
    assert update.status is RunStatus.RUNNING and update.reports == ((1, 0.1), (2, 0.2))
    assert runner.poll({run_id: 2}) == []  # nothing changed: nothing to say
    log([0.3, 0.4], kind=MetricKind.LIST)
    (update,) = runner.poll({run_id: 2})
    assert update.reports == ((3, 0.3), (4, 0.4))


def test_cancel_of_a_queued_child_ends_it_with_the_reason(parts):
    runner, backend, store, _ = parts
    run_id = runner.submit(0, {"--lr": 0.5}, None)
    runner.cancel(run_id, "Canceled by the Bandit policy at interval 2")
    record = store.get_run(run_id)
    assert record.status is RunStatus.CANCELED
    assert record.error["message"] == "Canceled by the Bandit policy at interval 2"
    assert record.details["cancelReason"] == record.error["message"]
    assert backend.canceled == []


def test_cancel_of_a_running_child_asks_its_executor_to_stop(parts):
    runner, backend, store, _ = parts
    run_id = runner.submit(0, {"--lr": 0.5}, None)
    store.set_run_status(run_id, RunStatus.RUNNING)
    runner.cancel(run_id, "why")
    assert store.get_run(run_id).status is RunStatus.CANCEL_REQUESTED
    assert backend.canceled == [run_id]


def test_a_failed_launch_fails_the_child_and_says_so(parts, ws):
    runner, backend, store, lines = parts

    def broken(run_id, definition):
        raise OSError("no room")

    backend.launch = broken
    run_id = runner.submit(0, {"--lr": 0.5}, None)
    record = store.get_run(run_id)
    assert record.status is RunStatus.FAILED and "no room" in record.error["message"]
    assert any("could not be started" in line for line in lines)

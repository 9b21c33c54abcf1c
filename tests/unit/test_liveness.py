"""Liveness: a submitted run whose executor is gone is marked Failed (or Canceled), never
left active; a live or still-queued one is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from runyard.compute.liveness import EXECUTOR_LOST, LivenessSettings, check_liveness
from runyard.compute.node import hostname, process_start_time
from runyard.core import Experiment, Run
from runyard.entities.run import RunStatus
from runyard.errors import InvalidArgument

SETTINGS = LivenessSettings(interval=0.1, timeout=1.0)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _submitted(ws, status=RunStatus.RUNNING, *, pid=None, host=None, beat_age=60.0):
    Experiment(ws, "alive")
    record = ws._store.create_run(
        "alive", run_id=f"r{time.monotonic_ns()}", status=status, run_type="submitted"
    )
    executor = {"host": host or hostname(), "pid": pid, "pidStart": None, "launchedAt": 1.0}
    if pid is not None:
        executor["pidStart"] = process_start_time(pid)
    return ws._store.update_run(
        record.run_id, details={"executor": executor}, heartbeat_at=time.time() - beat_age
    )


def test_silent_run_whose_executor_is_gone_is_marked_failed(ws):
    record = check_liveness(ws, _submitted(ws, pid=_dead_pid()), SETTINGS)
    assert record.status == RunStatus.FAILED
    assert record.error["code"] == EXECUTOR_LOST
    assert "stopped heart-beating at" in record.error["message"]


def test_silent_run_whose_executor_still_runs_here_is_left_alone(ws):
    record = check_liveness(ws, _submitted(ws, pid=os.getpid()), SETTINGS)
    assert record.status == RunStatus.RUNNING


def test_silent_run_on_another_host_is_judged_by_its_heartbeat(ws):
    record = check_liveness(ws, _submitted(ws, pid=os.getpid(), host="elsewhere"), SETTINGS)
    assert record.status == RunStatus.FAILED


def test_recent_heartbeat_means_alive(ws):
    record = _submitted(ws, pid=_dead_pid(), beat_age=0.0)
    assert check_liveness(ws, record, SETTINGS).status == RunStatus.RUNNING


def test_queued_run_without_an_executor_yet_is_left_alone(ws):
    Experiment(ws, "alive")
    record = ws._store.create_run(
        "alive", run_id="waiting", status=RunStatus.QUEUED, run_type="submitted"
    )
    assert check_liveness(ws, record, SETTINGS).status == RunStatus.QUEUED


def test_dead_executor_of_a_run_being_canceled_ends_it_canceled(ws):
    record = _submitted(ws, pid=_dead_pid())
    record = ws._store.set_run_status(record.run_id, RunStatus.CANCEL_REQUESTED)
    assert check_liveness(ws, record, SETTINGS).status == RunStatus.CANCELED


def test_get_status_applies_liveness(ws, monkeypatch):
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "0.1")
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "1")
    record = _submitted(ws, pid=_dead_pid())
    assert Run.get(ws, record.run_id).get_status() == "Failed"


def test_settings_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "2")
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "3")
    assert LivenessSettings.from_env() == LivenessSettings(interval=2.0, timeout=4.0)
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "soon")
    with pytest.raises(InvalidArgument, match="RUNYARD_HEARTBEAT_TIMEOUT_S"):
        LivenessSettings.from_env()


def test_waiting_on_a_queued_cluster_run_looks_at_its_target_now_and_then(ws, monkeypatch):
    from runyard.core import run_monitor
    from runyard.core.compute_target import LocalCompute

    looked: list[str] = []
    monkeypatch.setattr(LocalCompute, "get_status", lambda self: looked.append(self.name))
    monkeypatch.setattr(run_monitor, "DISPATCH_CHECK_SECONDS", 0.0)
    Experiment(ws, "queue")
    queued = ws._store.create_run(
        "queue",
        run_id="q1",
        status=RunStatus.QUEUED,
        run_type="submitted",
        target="local",  # stands in for a cluster target: only the record's shape counts
        details={"rayDispatch": {"resources": {}}},
    )
    keeper = run_monitor.QueueKeeper(Run.get(ws, "q1"))
    keeper.tick(queued)
    assert looked == ["local"]
    running = ws._store.set_run_status("q1", RunStatus.PREPARING, expected=[RunStatus.QUEUED])
    keeper.tick(running)  # placed: nothing more to keep moving
    assert looked == ["local"]

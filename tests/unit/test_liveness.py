"""Liveness: the sweeper marks a run whose process is gone Failed (or Canceled), never left
active; a live or still-queued one is left alone; plain reads never sweep; and only what
this node recorded itself is ever signalled."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time

import pytest

from runyard.core import Experiment, Run, Workspace
from runyard.entities.run import RunStatus
from runyard.errors import InvalidArgument
from runyard.node import local_record
from runyard.node.liveness import EXECUTOR_LOST, sweep, sweep_run
from runyard.node.processes import hostname, process_start_time
from runyard.settings import Settings


@pytest.fixture
def fast(ws, tmp_path):
    """The workspace's resources with a one-second liveness timeout."""
    settings = Settings(heartbeat_s=0.1, liveness_timeout_s=1.0, scratch=str(tmp_path / "scr"))
    resources = ws.resources
    resources.settings = settings
    return resources


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _submitted(resources, status=RunStatus.RUNNING, *, pid=None, beat_age=60.0, record_here=True):
    store = resources.store
    store.create_experiment("alive")
    record = store.create_run(
        "alive", run_id=f"r{time.monotonic_ns()}", status=status, run_type="submitted"
    )
    executor = {"host": hostname(), "pid": pid, "launchedAt": 1.0}
    if pid is not None and record_here:
        local_record.update(
            resources.settings.scratch_dir,
            record.run_id,
            executor_pid=pid,
            executor_start=process_start_time(pid),
        )
    return store.update_run(
        record.run_id, details={"executor": executor}, heartbeat_at=time.time() - beat_age
    )


def test_silent_run_whose_executor_is_gone_is_marked_failed(fast):
    record = sweep_run(fast, _submitted(fast, pid=_dead_pid()))
    assert record.status == RunStatus.FAILED
    assert record.error["code"] == EXECUTOR_LOST
    assert "stopped heart-beating at" in record.error["message"]


def test_silent_run_whose_executor_still_runs_here_is_left_alone(fast):
    record = sweep_run(fast, _submitted(fast, pid=os.getpid()))
    assert record.status == RunStatus.RUNNING


def test_silent_run_this_node_never_carried_is_judged_by_its_heartbeat(fast):
    record = _submitted(fast, pid=os.getpid(), record_here=False)
    assert sweep_run(fast, record).status == RunStatus.FAILED


def test_recent_heartbeat_means_alive(fast):
    record = _submitted(fast, pid=_dead_pid(), beat_age=0.0)
    assert sweep_run(fast, record).status == RunStatus.RUNNING


def test_queued_run_without_an_executor_yet_is_left_alone(fast):
    fast.store.create_experiment("alive")
    record = fast.store.create_run(
        "alive", run_id="waiting", status=RunStatus.QUEUED, run_type="submitted"
    )
    assert sweep_run(fast, record).status == RunStatus.QUEUED


def test_dead_executor_of_a_run_being_canceled_ends_it_canceled(fast):
    record = _submitted(fast, pid=_dead_pid())
    record = fast.store.set_run_status(record.run_id, RunStatus.CANCEL_REQUESTED)
    assert sweep_run(fast, record).status == RunStatus.CANCELED


def test_reads_never_sweep(ws, fast):
    record = _submitted(fast, pid=_dead_pid())
    run = Run.get(ws, record.run_id)
    assert run.get_status() == "Running"
    assert run.get_details()["status"] == "Running"
    assert [r.get_status() for r in Experiment(ws, "alive").get_runs()] == ["Running"]
    assert fast.store.get_run(record.run_id).status == RunStatus.RUNNING


def test_sweep_ends_every_dead_run_of_a_target(fast):
    dead = _submitted(fast, pid=_dead_pid())
    alive = _submitted(fast, pid=os.getpid())
    ended = sweep(fast)
    assert [r.run_id for r in ended] == [dead.run_id]
    assert fast.store.get_run(alive.run_id).status == RunStatus.RUNNING


def test_a_forged_process_group_in_the_store_is_never_signalled(fast):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = _submitted(fast, pid=_dead_pid())
        # Someone with write access to the store points the run's script at another process.
        fast.store.update_run(
            record.run_id, details={"script": {"pgid": victim.pid, "pid": victim.pid}}
        )
        assert sweep_run(fast, fast.store.get_run(record.run_id)).status == RunStatus.FAILED
        time.sleep(0.3)
        assert victim.poll() is None, "the sweeper signalled a pid it read from the store"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()


def test_settings_come_from_the_environment_and_are_checked():
    settings = Settings.from_env({"RUNYARD_HEARTBEAT_S": "2", "RUNYARD_HEARTBEAT_TIMEOUT_S": "3"})
    assert (settings.heartbeat_s, settings.liveness_timeout_s) == (2.0, 4.0)
    with pytest.raises(InvalidArgument, match="RUNYARD_HEARTBEAT_TIMEOUT_S"):
        Settings.from_env({"RUNYARD_HEARTBEAT_TIMEOUT_S": "soon"})


def test_settings_pass_to_another_process_unchanged():
    settings = Settings(heartbeat_s=0.5, keep_workdir=True, scratch="/tmp/x")
    assert Settings.from_env(settings.to_env()) == settings
    assert dataclasses.replace(settings) == settings


def test_waiting_on_a_queued_cluster_run_looks_at_its_target_now_and_then(ws, monkeypatch):
    from runyard.core import run_monitor
    from runyard.core.compute_target import LocalCompute

    looked: list[str] = []
    monkeypatch.setattr(LocalCompute, "get_status", lambda self: looked.append(self.name))
    monkeypatch.setattr(run_monitor, "DISPATCH_CHECK_SECONDS", 0.0)
    Experiment(ws, "queue")
    queued = ws.resources.store.create_run(
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
    running = ws.resources.store.set_run_status(
        "q1", RunStatus.PREPARING, expected=[RunStatus.QUEUED]
    )
    keeper.tick(running)  # placed: nothing more to keep moving
    assert looked == ["local"]


def test_a_killed_interactive_run_is_ended_when_its_experiment_is_next_used(ws, tmp_path):
    script = (
        "import os, signal, sys\n"
        "from runyard.core import Workspace, Experiment\n"
        "ws = Workspace.get('test-ws', path=sys.argv[1])\n"
        "run = Experiment(ws, 'notebook').start_logging()\n"
        "run.log('loss', 0.5); run.flush()\n"
        "print(run.id, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "RUNYARD_HEARTBEAT_S": "0.1", "RUNYARD_HEARTBEAT_TIMEOUT_S": "0.5"}
    done = subprocess.run(
        [sys.executable, "-c", script, ws.config.path], capture_output=True, text=True, env=env
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    killed = done.stdout.strip()
    assert ws.resources.store.get_run(killed).status == RunStatus.RUNNING
    ws.resources.settings = Settings(heartbeat_s=0.1, liveness_timeout_s=0.5)
    time.sleep(0.8)
    with Experiment(ws, "notebook").start_logging() as fresh:
        fresh.log("loss", 0.1)
    record = ws.resources.store.get_run(killed)
    assert record.status == RunStatus.FAILED
    assert record.error["code"] == EXECUTOR_LOST
    assert Run.get(ws, killed).get_metrics() == {"loss": 0.5}  # nothing logged is lost


def test_a_live_interactive_run_keeps_beating(ws):
    ws.resources.settings = Settings(heartbeat_s=0.1, liveness_timeout_s=0.5)
    run = Experiment(ws, "notebook").start_logging()
    time.sleep(0.8)
    with Workspace.get("test-ws", path=ws.config.path) as elsewhere:  # as another process
        elsewhere.resources.settings = ws.resources.settings
        Experiment(elsewhere, "notebook").start_logging().complete()  # sweeps the experiment
    assert run.get_status() == "Running"
    run.complete()


def _interactive(resources, beat_age: float):
    store = resources.store
    store.create_experiment("alive")
    record = store.create_run("alive", run_id=f"i{time.monotonic_ns()}", status=RunStatus.RUNNING)
    assert record.run_type == "interactive"
    return store.update_run(record.run_id, heartbeat_at=time.time() - beat_age)


def test_a_server_gives_silent_interactive_runs_longer_and_submitted_ones_none(fast):
    """A notebook logging to a server may lose its network for a while: the server's sweep
    waits ``interactive_timeout_s`` for it, while a silent submitted run goes at once."""
    away = _interactive(fast, beat_age=60.0)
    assert sweep_run(fast, away, interactive_timeout_s=600.0).status == RunStatus.RUNNING
    gone = _interactive(fast, beat_age=700.0)
    ended = sweep_run(fast, gone, interactive_timeout_s=600.0)
    assert ended.status == RunStatus.FAILED and "limit 600 s" in ended.error["message"]
    dead = _submitted(fast, pid=_dead_pid())
    ended_ids = {r.run_id for r in sweep(fast, interactive_timeout_s=600.0)}
    assert dead.run_id in ended_ids and away.run_id not in ended_ids
    # Without it (embedded workspaces), the liveness timeout applies to both.
    assert sweep_run(fast, _interactive(fast, beat_age=60.0)).status == RunStatus.FAILED

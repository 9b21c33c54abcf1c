"""The idle watch of a local Ray head, without Ray: a sleeping process group stands for the
head, and the watch stops it only once the target has had no active run for its idle time."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from runyard.compute.ray import idle
from runyard.compute.ray.head import HeadInfo
from runyard.compute.ray.idle import STOPPED_IDLE_AT, IdleWatch, poll_seconds
from runyard.core import Experiment
from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.run import RunStatus
from runyard.node import processes


@pytest.fixture
def head(tmp_path):
    """A process group that stands for a head; killed at the end whatever happens."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    info = HeadInfo(
        folder=str(tmp_path / "head"),
        host=processes.hostname(),
        gcs_port=1,
        dashboard_port=2,
        pgid=proc.pid,
        token_path=str(tmp_path / "head" / "token"),
        python=sys.executable,
        started_at=time.time(),
    )
    (tmp_path / "head").mkdir()
    yield info
    proc.kill()
    proc.wait()


def _target(ws, head: HeadInfo, idle_seconds: float) -> None:
    config = {"vm_size": "cpu-1", "idle_seconds_before_scaledown": idle_seconds}
    config["head"] = head.to_dict()
    ws.resources.store.save_compute_target(ComputeTargetRecord("idle", "ray", config))


def test_an_idle_target_has_its_head_stopped_and_the_stop_recorded(ws, head, monkeypatch):
    monkeypatch.setattr(idle, "poll_seconds", lambda _idle: 0.05)
    _target(ws, head, idle_seconds=0.2)
    started = time.monotonic()
    assert IdleWatch(ws.resources, "idle", head.pgid).run() == 0
    assert time.monotonic() - started >= 0.2
    assert not processes.group_alive(head.pgid)
    assert STOPPED_IDLE_AT in ws.resources.store.get_compute_target("idle").config


def test_an_active_run_keeps_the_head_up_until_it_ends(ws, head, monkeypatch):
    monkeypatch.setattr(idle, "poll_seconds", lambda _idle: 0.05)
    _target(ws, head, idle_seconds=0.3)
    store = ws.resources.store
    Experiment(ws, "e")
    run = store.create_run("e", run_id="e_1", status=RunStatus.QUEUED, target="idle")
    watch = threading.Thread(target=IdleWatch(ws.resources, "idle", head.pgid).run)
    watch.start()
    time.sleep(1.0)
    assert processes.group_alive(head.pgid)  # three idle times, but a run was queued
    store.set_run_status(run.run_id, RunStatus.CANCELED)
    watch.join(timeout=10)
    assert not watch.is_alive() and not processes.group_alive(head.pgid)


def test_the_watch_ends_without_stopping_anything_when_the_target_is_deleted(ws, head, monkeypatch):
    monkeypatch.setattr(idle, "poll_seconds", lambda _idle: 0.05)
    _target(ws, head, idle_seconds=60)
    watch = threading.Thread(target=IdleWatch(ws.resources, "idle", head.pgid).run)
    watch.start()
    ws.resources.store.delete_compute_target("idle")
    watch.join(timeout=10)
    assert not watch.is_alive() and processes.group_alive(head.pgid)


def test_it_looks_often_enough_for_short_idle_times_and_not_too_often_for_long_ones():
    assert poll_seconds(3) == 0.5
    assert poll_seconds(60) == 6
    assert poll_seconds(1800) == idle.MAX_POLL_S


def test_a_store_error_does_not_end_the_watch(ws, head, monkeypatch, capsys):
    monkeypatch.setattr(idle, "poll_seconds", lambda _idle: 0.05)
    _target(ws, head, idle_seconds=0.2)
    store = ws.resources.store
    real = store.list_runs
    failures = iter([True, False])

    def flaky(*args, **kwargs):
        if next(failures, False):
            raise OSError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "list_runs", flaky)
    assert IdleWatch(ws.resources, "idle", head.pgid).run() == 0
    assert "OSError: database is locked" in capsys.readouterr().out
    assert not processes.group_alive(head.pgid)

"""A HyperDrive run's controller dies or is doubled, for real: ``runyard workspace sweep``
resumes a sweep whose controller was killed; concurrent restarts start one controller; a
controller superseded by a newer claim stops and leaves the run to it."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time

import pytest
from click.testing import CliRunner
from submitting import wait_for

from runyard.cli.main import cli
from runyard.core import Experiment, ScriptRunConfig
from runyard.node.processes import process_alive
from runyard.resources import WorkspaceResources
from runyard.sweep.launch import CLAIM_PREFIX, claim_controller, resume_if_gone
from runyard.train.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

pytestmark = pytest.mark.integration

SCRIPT = """
import argparse, time
from runyard.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, required=True)
args = p.parse_args()
run = Run.get_context()
for step in range(1, 4):
    run.log("score", args.x * step)
    run.flush()
    time.sleep(0.3)
"""
TRIALS = 6


@pytest.fixture(autouse=True)
def _fast(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "0.5")
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "2")


@pytest.fixture
def hdr(ws, here, tmp_path):
    """A sweep of TRIALS children, 2 at once, each ~1 s; its first two children started."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(str(folder), "train.py", environment=here),
        hyperparameter_sampling=GridParameterSampling({"--x": choice(*range(1, TRIALS + 1))}),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=TRIALS,
        max_concurrent_runs=2,
    )
    run = Experiment(ws, "tune").submit(config)
    wait_for(lambda: len(run.get_children()) >= 2, 30, "the first children")
    return run


def _kill_controller(hdr):
    pid = hdr.get_details()["executor"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), 10, "the controller gone")
    return pid


def _ends_complete_without_duplicates(hdr):
    # Polling the status, not wait_for_completion (which would restart a dead controller).
    wait_for(lambda: hdr.get_status() in ("Completed", "Failed", "Canceled"), 90, "the end")
    assert hdr.get_status() == "Completed"
    children = sorted(c.id for c in hdr.get_children())
    assert children == sorted(f"{hdr.id}_{n}" for n in range(TRIALS))
    state = hdr.get_study_state()
    assert len(state.trials) == TRIALS
    assert all(t.status.value == "Completed" for t in state.trials)


def test_workspace_sweep_resumes_a_sweep_whose_controller_was_killed(
    ws, hdr, tmp_path, monkeypatch
):
    killed = _kill_controller(hdr)
    time.sleep(2.5)  # silent for longer than the liveness timeout
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    result = CliRunner().invoke(cli, ["--json", "workspace", "sweep"])
    assert result.exit_code == 0, result.output
    swept = [s for s in json.loads(result.stdout) if s["runId"] == hdr.id]
    assert swept == [{"runId": hdr.id, "status": "Running", "action": "resumed", "error": None}]
    _ends_complete_without_duplicates(hdr)
    assert hdr.get_details()["executor"]["pid"] != killed
    claims = sorted(k for k in hdr.get_properties() if k.startswith(CLAIM_PREFIX))
    assert claims == [f"{CLAIM_PREFIX}1", f"{CLAIM_PREFIX}2"]
    log = hdr._read_file("runyard-logs/hyperdrive.txt").decode()
    assert "Resumed tuning" in log


def test_concurrent_restarts_of_a_dead_controller_start_one(ws, hdr):
    _kill_controller(hdr)
    time.sleep(2.5)
    config = ws.resources.config.to_json()
    started: list[bool] = []
    start = threading.Barrier(4)

    def restarter():
        with WorkspaceResources.from_json(config) as resources:
            start.wait()
            started.append(resume_if_gone(resources, hdr.id))

    threads = [threading.Thread(target=restarter) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(started) == [False, False, False, True]
    _ends_complete_without_duplicates(hdr)
    claims = sorted(k for k in hdr.get_properties() if k.startswith(CLAIM_PREFIX))
    assert claims == [f"{CLAIM_PREFIX}1", f"{CLAIM_PREFIX}2"]


def test_a_superseded_controller_stops_and_a_later_one_finishes_the_sweep(ws, hdr):
    first = hdr.get_details()["executor"]["pid"]
    # Another machine's restart, as the store sees it: a newer claim (no process here).
    assert claim_controller(ws.resources, ws.resources.store.get_run(hdr.id)) is not None
    wait_for(lambda: not process_alive(first), 15, "the superseded controller to stop")
    log = hdr._read_file("runyard-logs/hyperdrive.txt").decode()
    assert "stops: a newer controller was started" in log
    assert hdr.get_status() == "Running"  # left as it was, for the newer controller
    # The newer claim's controller never beats: once silent, a restart claims the next.
    details = hdr.wait_for_completion(timeout_seconds=90)
    assert details["status"] == "Completed"
    _ends_complete_without_duplicates(hdr)
    claims = sorted(k for k in hdr.get_properties() if k.startswith(CLAIM_PREFIX))
    assert claims == [f"{CLAIM_PREFIX}{n}" for n in (1, 2, 3)]

"""The warm launcher for a sweep's children on local compute: a real fork server process
forks real executors, which carry real runs; when it is gone, children start cold."""

from __future__ import annotations

import os
import signal
import sys
import textwrap

import pytest
from submitting import wait_for

from runyard.artifacts.layout import EXECUTOR_LOG, run_file_key
from runyard.artifacts.snapshots import take_snapshot
from runyard.compute.local.backend import LocalComputeBackend
from runyard.compute.local.forkserver import ForkServer
from runyard.core import Experiment, ScriptRunConfig
from runyard.core.submission import build_definition
from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.run import RunStatus
from runyard.entities.run_details import RUN_DEFINITION
from runyard.errors import BackendError
from runyard.node.processes import process_alive
from runyard.resources import ENV_WORKSPACE
from runyard.sweep.warm import WarmStarter

pytestmark = pytest.mark.integration

SCRIPT = """
import os
from runyard.core import Run
run = Run.get_context()
run.log("session_leader", float(os.getsid(os.getppid()) == os.getppid()))
"""


@pytest.fixture(autouse=True)
def _fast(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


@pytest.fixture
def new_run(ws, here, tmp_path):
    """``new_run(n)``: a Queued run of a tiny script, ready for a backend to launch."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
    exp = Experiment(ws, "warm")
    src = ScriptRunConfig(str(folder), "train.py", environment=here)
    definition, _ = build_definition(exp, src)
    resources = ws.resources
    definition = definition.with_snapshot(take_snapshot(resources.artifacts, str(folder)))

    def make(n):
        resources.store.create_run(
            "warm",
            run_id=f"warm_{n}",
            status=RunStatus.QUEUED,
            run_type="submitted",
            target="local",
            details={RUN_DEFINITION: definition.to_dict()},
        )
        return f"warm_{n}", definition

    return make


def _server_env(ws):
    env = dict(os.environ)
    env.update(ws.resources.settings.to_env())
    env[ENV_WORKSPACE] = ws.resources.config.to_json()
    return env


def _executor_log(ws, run_id):
    return ws.resources.artifacts.read_bytes(run_file_key(run_id, EXECUTOR_LOG)).decode()


def test_forked_executors_carry_runs_in_their_own_session_with_the_prepared_environment(
    ws, new_run, tmp_path
):
    server = ForkServer(_server_env(ws), str(tmp_path / "forkserver.out"))
    try:
        run_id, definition = new_run(0)
        assert "Environment ready" in server.prepare(definition.to_dict())
        backend = LocalComputeBackend(ws.resources, ComputeTargetRecord("local", "local", {}))
        backend.spawn = server.spawn
        backend.launch(run_id, definition)
        store = ws.resources.store
        pid = store.get_run(run_id).details["executor"]["pid"]
        ended: list[int] = []
        wait_for(lambda: ended.extend(server.wait(0.5)) or pid in ended, 60, "the exit report")
        record = store.get_run(run_id)
        assert record.status is RunStatus.COMPLETED, record.error
        assert record.details["executor"]["pid"] == pid  # the forked process carried it
        # setsid() in the fork: the executor leads a session of its own.
        assert store.get_metrics(run_id, "session_leader")[0].value == 1.0
        assert "prepared by the launcher" in _executor_log(ws, run_id)
    finally:
        server.close()


def test_the_fork_server_starts_executors_only(ws, tmp_path):
    server = ForkServer(_server_env(ws), str(tmp_path / "forkserver.out"))
    try:
        with pytest.raises(BackendError, match="executors only"):
            server.spawn([sys.executable, "-c", "pass"], {}, str(tmp_path / "out"))
    finally:
        server.close()


def test_executors_outlive_a_closed_fork_server(ws, new_run, tmp_path):
    server = ForkServer(_server_env(ws), str(tmp_path / "forkserver.out"))
    backend = LocalComputeBackend(ws.resources, ComputeTargetRecord("local", "local", {}))
    backend.spawn = server.spawn
    run_id, definition = new_run(0)
    backend.launch(run_id, definition)
    server.close()
    assert not process_alive(server.pid)
    store = ws.resources.store
    wait_for(lambda: store.get_run(run_id).is_terminal, 60, "the run's end")
    assert store.get_run(run_id).status is RunStatus.COMPLETED


def test_children_start_cold_when_the_warm_launcher_is_gone(ws, new_run):
    lines: list[str] = []
    run_id, definition = new_run(0)
    starter = WarmStarter(ws.resources, "sweep_1", definition.to_dict(), lines.append)
    try:
        assert "warm launcher" in lines[0]
        assert starter._server is not None
        os.kill(starter._server.pid, signal.SIGKILL)
        backend = LocalComputeBackend(ws.resources, ComputeTargetRecord("local", "local", {}))
        backend.spawn = starter.spawn
        backend.launch(run_id, definition)  # falls back: a new interpreter
        assert "Children start cold" in lines[-1]
        store = ws.resources.store
        wait_for(lambda: store.get_run(run_id).is_terminal, 60, "the run's end")
        assert store.get_run(run_id).status is RunStatus.COMPLETED
        assert "prepared by the launcher" not in _executor_log(ws, run_id)
    finally:
        starter.close()

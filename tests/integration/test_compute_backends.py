"""The ComputeBackend contract, the same scenarios on every backend: a launched run
completes with its output, a failing one fails with its exit code, cancel stops the script
and ends the run Canceled, and ``status()`` counts the target's running runs.

The local backend (a named target with one slot) and the Ray backend (a local Ray head
Runyard starts) each serve the whole module; the Ray one is marked ``ray``.
"""

from __future__ import annotations

import tempfile
import time

import pytest
from submitting import submit_script, wait_for

from runyard.core import Workspace
from runyard.core.compute import AmlCompute, ComputeTarget
from runyard.core.compute_target import LocalCompute
from runyard.node.processes import process_alive

BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("ray", id="ray", marks=pytest.mark.ray),
]


@pytest.fixture(scope="module", params=BACKENDS)
def target(request, tmp_path_factory):
    """A workspace and one target of the backend under test."""
    monkey = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp(f"backend-{request.param}")
    monkey.setenv("RUNYARD_HOME", str(folder / "home"))
    monkey.setenv("RUNYARD_SCRATCH", str(folder / "scratch"))
    monkey.setenv("RUNYARD_HEARTBEAT_S", "0.5")
    monkey.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "3")
    ws = Workspace.create("backends", path=folder / "ws")
    if request.param == "local":
        config = LocalCompute.provisioning_configuration(max_concurrent_runs=1)
        created = ComputeTarget.create(ws, "cpu", config)
    else:
        pytest.importorskip("ray", reason="needs Ray: pip install 'runyard[ray]'")
        # Ray's sockets need a short path.
        monkey.setenv("RUNYARD_RAY_DIR", tempfile.mkdtemp(prefix="rybk", dir="/tmp"))
        config = AmlCompute.provisioning_configuration(vm_size="cpu-2", max_nodes=1)
        created = ComputeTarget.create(ws, "raycpu", config)
        created.wait_for_completion(show_output=False)
    yield ws, created
    created.delete()
    ws.close()
    monkey.undo()


def _submit(target, tmp_path, body, env):
    ws, compute = target
    return submit_script(ws, compute, tmp_path, body, env, experiment="contract")


def test_a_launched_run_completes_with_its_output(target, tmp_path, here):
    run = _submit(target, tmp_path, "print('hello from the backend', flush=True)\n", here)
    assert run.wait_for_completion()["status"] == "Completed"
    log = run._read_file("runyard-logs/driver.txt").decode()
    assert "hello from the backend" in log
    assert run.get_details()["executor"]["backend"] in ("local", "ray")


def test_a_failing_script_fails_with_its_exit_code(target, tmp_path, here):
    run = _submit(target, tmp_path, "import sys; sys.exit(7)\n", here)
    with pytest.raises(Exception, match="exited with code 7"):
        run.wait_for_completion()
    details = run.get_details()
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "ScriptFailed" and details["error"]["exitCode"] == 7


def test_cancel_stops_the_script_and_ends_the_run_canceled(target, tmp_path, here):
    marker = tmp_path / "pid"
    body = f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n"
    run = _submit(target, tmp_path, body, here)
    pid = int(wait_for(lambda: marker.exists() and marker.read_text(), what="the script"))
    _ws, compute = target
    status = compute.get_status()
    assert status.running_runs >= 1 and status.nodes_busy >= 1
    run.cancel()
    wait_for(lambda: run.get_status() == "Canceled", timeout=60, what="the run to be canceled")
    wait_for(lambda: not process_alive(pid), timeout=30, what="the script to be gone")
    assert compute.get_status().running_runs == 0


def test_runs_beyond_the_targets_capacity_wait_queued(target, tmp_path, here):
    first = _submit(target, tmp_path, "import time; time.sleep(4)\n", here)
    wait_for(lambda: first.get_status() == "Running", what="the first run to run")
    second = _submit(target, tmp_path, "print('second')\n", here)
    time.sleep(1.0)
    assert second.get_status() == "Queued"
    assert target[1].get_status().queued_runs == 1
    assert first.wait_for_completion()["status"] == "Completed"
    assert second.wait_for_completion()["status"] == "Completed"

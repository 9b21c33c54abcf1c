"""The hard parts of a submitted run's life, with real processes: cancel stops the whole
process tree, a killed executor does not leave its run Running, a named local target queues
runs beyond its limit."""

from __future__ import annotations

import os
import signal
import textwrap
import time

import pytest
from submitting import wait_for

from runyard.core import Environment, Experiment, ScriptRunConfig
from runyard.core.compute_target import ComputeTarget, LocalCompute
from runyard.node.processes import process_alive

pytestmark = pytest.mark.integration

# A script that starts a child process (the "tree"), writes both pids, then waits for a
# release file (or a minute).
_TREE = """
import os, subprocess, sys, time
pids_file, release = sys.argv[1], sys.argv[2]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(pids_file + ".partial", "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace(pids_file + ".partial", pids_file)
print("started", flush=True)
deadline = time.time() + 60
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
child.kill()
print("released", flush=True)
"""


@pytest.fixture(autouse=True)
def _fast_heartbeat(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("RUNYARD_HEARTBEAT_S", "0.3")
    monkeypatch.setenv("RUNYARD_HEARTBEAT_TIMEOUT_S", "2")


@pytest.fixture
def exp(ws):
    return Experiment(ws, "lifecycle")


@pytest.fixture
def config(tmp_path):
    """A ScriptRunConfig factory for the tree script; each call gets its own pid/release
    files."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "tree.py").write_text(textwrap.dedent(_TREE))
    env = Environment("current")
    env.python.user_managed_dependencies = True
    made = []

    def make(target="local"):
        n = len(made)
        pids, release = tmp_path / f"pids-{n}", tmp_path / f"release-{n}"
        made.append((pids, release))
        cfg = ScriptRunConfig(
            str(src),
            "tree.py",
            arguments=[str(pids), str(release)],
            environment=env,
            compute_target=target,
        )
        return cfg, pids, release

    return make


def _pids(path):
    text = wait_for(lambda: path.exists() and path.read_text(), what=f"{path}")
    return [int(p) for p in text.split()]


def test_cancel_stops_the_script_and_its_children(exp, config):
    cfg, pids_file, _ = config()
    run = exp.submit(cfg)
    script, child = _pids(pids_file)
    assert run.get_status() == "Running"
    run.cancel()
    details = run.wait_for_completion(timeout_seconds=30)
    assert details["status"] == "Canceled"
    wait_for(lambda: not process_alive(script) and not process_alive(child), 10, "tree gone")
    assert "started" in run._read_file("runyard-logs/driver.txt").decode()


def test_canceling_a_queued_run_means_it_never_starts(exp, config, ws):
    ComputeTarget.create(ws, "one-slot", LocalCompute.provisioning_configuration(1))
    first_cfg, first_pids, first_release = config("one-slot")
    second_cfg, second_pids, _ = config("one-slot")
    first = exp.submit(first_cfg)
    _pids(first_pids)
    second = exp.submit(second_cfg)
    second.cancel()
    assert second.get_status() == "Canceled"
    first_release.touch()
    assert first.wait_for_completion(timeout_seconds=30)["status"] == "Completed"
    time.sleep(0.5)
    assert not second_pids.exists()
    assert second.get_status() == "Canceled"


def test_killed_executor_ends_failed_instead_of_running_forever(exp, config):
    cfg, pids_file, _ = config()
    run = exp.submit(cfg)
    script, child = _pids(pids_file)
    executor = run.get_details()["executor"]["pid"]
    os.kill(executor, signal.SIGKILL)
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=30)
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "ExecutorLost"
    assert "stopped heart-beating" in details["error"]["message"]
    # The orphaned script was stopped by whoever noticed, and its log is kept.
    wait_for(lambda: not process_alive(script) and not process_alive(child), 10, "tree gone")
    assert "started" in run._read_file("runyard-logs/driver.txt").decode()


def test_named_local_target_runs_one_at_a_time_and_queues_the_rest(exp, config, ws):
    target = ComputeTarget.create(ws, "serial", LocalCompute.provisioning_configuration(1))
    assert isinstance(target, LocalCompute) and target.max_concurrent_runs == 1
    first_cfg, first_pids, first_release = config("serial")
    second_cfg, second_pids, second_release = config("serial")
    first = exp.submit(first_cfg)
    second = exp.submit(second_cfg)
    _pids(first_pids)
    time.sleep(1.0)  # time enough for the second to start, were it allowed to
    assert second.get_status() == "Queued" and not second_pids.exists()
    status = target.get_status()
    assert status.queued_runs == 1 and status.running_runs == 1
    first_release.touch()
    _pids(second_pids)
    second_release.touch()
    assert second.wait_for_completion(timeout_seconds=30)["status"] == "Completed"
    assert first.get_status() == "Completed"
    assert second._refresh().started_at >= first._refresh().ended_at


def test_runs_on_the_builtin_local_target_run_side_by_side(exp, config):
    (a_cfg, a_pids, a_release), (b_cfg, b_pids, b_release) = config(), config()
    a, b = exp.submit(a_cfg), exp.submit(b_cfg)
    _pids(a_pids)
    _pids(b_pids)  # both running at once
    a_release.touch()
    b_release.touch()
    assert a.wait_for_completion()["status"] == b.wait_for_completion()["status"] == "Completed"


# A script that starts a daemon outside its process group, the two usual ways: a process in
# a session of its own, and a double fork (whose middle process exits at once, orphaning
# the daemon). It writes their pids, then waits for a release file or ends at once.
_DAEMONS = """
import os, subprocess, sys, time
pids_file, mode = sys.argv[1], sys.argv[2]
session = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True
)
read, write = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(write, str(os.getpid()).encode())
        time.sleep(300)
    os._exit(0)
os.close(write)
daemon = int(os.read(read, 32))
with open(pids_file + ".partial", "w") as f:
    f.write(f"{session.pid} {daemon}")
os.replace(pids_file + ".partial", pids_file)
print("daemons started", flush=True)
if mode == "stay":
    time.sleep(120)
"""


def _submit_daemons(exp, tmp_path, mode):
    src = tmp_path / f"daemons-{mode}"
    src.mkdir()
    (src / "daemons.py").write_text(_DAEMONS)
    env = Environment("current")
    env.python.user_managed_dependencies = True
    pids = tmp_path / f"daemon-pids-{mode}"
    cfg = ScriptRunConfig(str(src), "daemons.py", arguments=[str(pids), mode], environment=env)
    return exp.submit(cfg), pids


def test_cancel_also_stops_what_the_script_started_outside_its_process_group(exp, tmp_path):
    run, pids_file = _submit_daemons(exp, tmp_path, "stay")
    daemons = _pids(pids_file)
    assert all(process_alive(pid) for pid in daemons)
    run.cancel()
    assert run.wait_for_completion(timeout_seconds=30)["status"] == "Canceled"
    wait_for(lambda: not any(process_alive(pid) for pid in daemons), 10, "daemons gone")


def test_daemons_a_finished_script_left_running_end_with_its_run_and_the_log_says_so(exp, tmp_path):
    run, pids_file = _submit_daemons(exp, tmp_path, "leave")
    details = run.wait_for_completion(timeout_seconds=60)
    assert details["status"] == "Completed"
    daemons = _pids(pids_file)
    wait_for(lambda: not any(process_alive(pid) for pid in daemons), 10, "daemons gone")
    log = run._read_file("runyard-logs/driver.txt").decode()
    assert "stopping 2 process(es) the script left running" in log

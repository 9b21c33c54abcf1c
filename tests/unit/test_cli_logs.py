"""``runyard run logs [--follow]``: the driver log, once or while the run runs.

The log is appended the way the executor appends it (``ArtifactStore.append_bytes`` on
``runyard-logs/driver.txt``), by a real second writer thread with its own workspace.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest
from cli_helpers import invoke

from runyard.artifacts.layout import DRIVER_LOG
from runyard.cli import logs as cli_logs
from runyard.core import Experiment, Run, Workspace


@pytest.fixture
def here(here, monkeypatch):
    """The shared ``here``, with ``--follow`` polling fast."""
    monkeypatch.setattr(cli_logs, "POLL_SECONDS", 0.02)
    return here


def append(run: Run, data: bytes) -> None:
    run._artifacts.append_bytes(data, run._file_key(DRIVER_LOG))


def test_logs_prints_the_driver_log_as_it_is(here):
    run = Experiment(here, "x").start_logging()
    append(run, b"epoch 1\nepoch 2\n")
    result = invoke("run", "logs", run.id)
    assert result.exit_code == 0, result.output
    assert result.stdout == "epoch 1\nepoch 2\n"


def test_logs_of_a_run_without_a_driver_log_says_to_follow(here):
    run = Experiment(here, "x").start_logging()
    result = invoke("run", "logs", run.id)
    assert result.exit_code == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and "--follow" in line and "Running" in line


def test_logs_of_an_ended_run_without_a_driver_log_does_not_say_to_follow(here):
    run = Experiment(here, "x").start_logging()
    run.complete()
    result = invoke("run", "logs", run.id)
    assert result.exit_code == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and "ended (Completed)" in line
    assert "--follow" not in line


def test_follow_prints_new_output_until_the_run_completes(here, tmp_path):
    run = Experiment(here, "x").start_logging()
    # The writer is another process's view of the run: its own workspace object.
    writer_ws = Workspace.from_config(tmp_path / ".runyard" / "config.json")
    writer_run = Run.get(writer_ws, run.id)

    def write_then_complete() -> None:
        for i in range(3):
            time.sleep(0.05)
            append(writer_run, f"step {i}\n".encode())
        append(writer_run, b"\xc3")  # a UTF-8 character split across two appends
        time.sleep(0.05)
        append(writer_run, b"\xa9t\xc3\xa9\n")
        writer_run.complete()

    writer = threading.Thread(target=write_then_complete)
    writer.start()
    try:
        result = invoke("run", "logs", run.id, "--follow")
    finally:
        writer.join()
        writer_ws.close()
    assert result.exit_code == 0, result.output
    assert result.stdout == "step 0\nstep 1\nstep 2\nété\n"
    assert "Running" in result.stderr and "Completed" in result.stderr


def test_follow_of_a_failed_run_prints_its_log_then_the_error_and_exits_1(here):
    run = Experiment(here, "x").start_logging()
    append(run, b"Traceback: boom\n")
    run.fail(RuntimeError("division by zero in epoch 3"))
    result = invoke("run", "logs", run.id, "--follow")
    assert result.exit_code == 1
    assert result.stdout == "Traceback: boom\n"
    error_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    assert error_lines == [f"Error: Run {run.id} failed: division by zero in epoch 3"]


def test_follow_of_a_canceled_run_exits_1(here):
    run = Experiment(here, "x").start_logging()
    run.cancel()
    result = invoke("run", "logs", run.id, "-f")
    assert result.exit_code == 1
    assert f"Run {run.id} was canceled." in result.stderr


def test_follow_of_a_completed_run_prints_the_whole_log_and_exits_0(here):
    run = Experiment(here, "x").start_logging()
    append(run, b"done\n")
    run.complete()
    result = invoke("run", "logs", run.id, "--follow")
    assert result.exit_code == 0
    assert result.stdout == "done\n"
    # The log is the output: a global --json adds no document after it.
    assert invoke("--json", "run", "logs", run.id, "--follow").stdout == "done\n"


def test_ctrl_c_stops_following_with_exit_130_and_leaves_the_run_running(here, tmp_path):
    run = Experiment(here, "x").start_logging()
    append(run, b"ready\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "runyard.cli", "run", "logs", run.id, "--follow"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"  # it is following now
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert f"Stopped following run {run.id}; it goes on (Running)" in stderr
    assert "Traceback" not in stderr
    assert run.get_status() == "Running"

"""What wait_for_deployment(show_output=True) prints: v1's Running, log lines, dots, end."""

from __future__ import annotations

import io
import re

from runyard.core.webservice.progress import DeploymentProgress

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00"


def test_log_lines_are_timestamped_and_dots_fill_the_quiet_time(monkeypatch):
    out = io.StringIO()
    clock = iter([10.0, 10.1, 10.6, 11.2])
    monkeypatch.setattr("runyard.core.webservice.progress.time.monotonic", lambda: next(clock))
    progress = DeploymentProgress(out)
    progress.start()
    progress.log("Service s: preparing its environment.\n")
    progress.log("")  # 10.0: a dot
    progress.log("")  # 10.1: too soon for another
    progress.log("")  # 10.6: a dot
    progress.log("init done\n\nready\n")
    progress.log("")  # 11.2: a dot
    progress.end("Succeeded", 'ACI service creation operation finished, operation "Succeeded"')
    lines = out.getvalue().split("\n")
    assert lines[0] == "Running"
    assert re.fullmatch(f"{STAMP} Service s: preparing its environment.", lines[1])
    assert lines[2] == ".."  # the dots end their line before the next log line
    assert re.fullmatch(f"{STAMP} init done", lines[3])
    assert re.fullmatch(f"{STAMP} ready", lines[4])  # blank lines are left out
    assert lines[5:] == [
        ".",
        "Succeeded",
        'ACI service creation operation finished, operation "Succeeded"',
        "",
    ]


def test_a_failed_end_prints_the_state_without_the_success_line():
    out = io.StringIO()
    progress = DeploymentProgress(out)
    progress.start()
    progress.end("Failed", None)
    assert out.getvalue() == "Running\nFailed\n"

"""``runyard run submit`` (+ ``logs --follow`` and ``cancel`` on submitted runs).

The argument checks run no process. The tests marked ``integration`` submit real scripts,
carried by the real executor in real processes, in this interpreter
(user_managed_dependencies): no environment is built.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time

import pytest
from click.testing import CliRunner

from runyard.cli import logs as cli_logs
from runyard.cli.main import cli
from runyard.cli.run_submit import _environment
from runyard.core import Run

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from runyard.core import Run

    run = Run.get_context()
    print("args:", sys.argv[1:], flush=True)
    for epoch in range(2):
        run.log("Loss", 1.0 / (epoch + 1))
        print("epoch", epoch, flush=True)
    if "--crash" in sys.argv:
        raise SystemExit("crashed on purpose")
    if "--sleep" in sys.argv:
        time.sleep(60)
    """
)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def project(ws, tmp_path, monkeypatch):
    """A folder with .runyard/config.json and src/train.py, as the current folder."""
    monkeypatch.chdir(tmp_path)
    ws.write_config()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(SCRIPT)
    monkeypatch.setattr(cli_logs, "POLL_SECONDS", 0.1)
    return tmp_path


def test_missing_experiment_hints_that_options_go_before_the_script(project):
    result = invoke("run", "submit", "src/train.py", "--experiment", "x")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "--experiment" in line and "before SCRIPT" in line


def test_unknown_script_is_not_found_and_names_the_source_folder(project):
    result = invoke("run", "submit", "-e", "x", "--source-dir", "src", "nope.py")
    assert result.exit_code == 3
    (line,) = result.stderr.splitlines()
    assert "'nope.py'" in line and str(project / "src") in line


def test_script_outside_the_source_folder_is_refused(project):
    (project / "other.py").write_text("print(1)")
    result = invoke("run", "submit", "-e", "x", "--source-dir", "src", "other.py")
    assert result.exit_code == 2
    assert "outside the source folder" in result.stderr


def test_bad_tag_is_refused_before_anything_is_submitted(project, ws):
    result = invoke("run", "submit", "-e", "x", "--tag", "oops", "src/train.py")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr
    assert ws.get_runs() == []


def test_pip_packages_make_an_environment_that_installs_them():
    spec = _environment("exp", ("six==1.17.0", "tqdm")).to_spec()
    assert set(spec.pip_packages) == {"six==1.17.0", "tqdm"}
    assert not spec.user_managed


def test_no_pip_packages_run_in_this_interpreter_as_it_is():
    spec = _environment("exp", ()).to_spec()
    assert spec.user_managed
    assert spec.interpreter == sys.executable


@pytest.mark.integration
def test_submit_prints_only_the_run_id_and_the_run_goes_on(project, ws):
    result = invoke("run", "submit", "-e", "cli", "src/train.py", "--lr", "0.1")
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip()
    assert "\n" not in run_id
    assert f"runyard run logs {run_id} --follow" in result.stderr
    followed = invoke("run", "logs", run_id, "--follow")
    assert followed.exit_code == 0, followed.output
    assert "args: ['--lr', '0.1']" in followed.stdout
    assert "epoch 1" in followed.stdout
    run = Run.get(ws, run_id)
    assert run.get_status() == "Completed"
    assert run.get_metrics()["Loss"] == [1.0, 0.5]
    assert run.get_details()["target"] == "local"


@pytest.mark.integration
def test_submit_wait_streams_the_output_and_source_dir_holds_the_script(project):
    result = invoke(
        "run", "submit", "-e", "cli", "--source-dir", "src", "--wait", "train.py", "--x", "1"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("args: ['--x', '1']\n")
    assert "epoch 0\nepoch 1\n" in result.stdout
    assert "Completed" in result.stderr


@pytest.mark.integration
def test_submit_wait_of_a_crashing_script_exits_1_with_its_error(project):
    result = invoke("run", "submit", "-e", "cli", "--wait", "src/train.py", "--crash")
    assert result.exit_code == 1
    assert "crashed on purpose" in result.stdout  # the script's stderr is in the log
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1 and "failed" in errors[0] and "crashed on purpose" in errors[0]


@pytest.mark.integration
def test_submit_json_with_tags_and_wait_prints_one_document(project, ws):
    result = invoke(
        "run", "submit", "-e", "cli", "--tag", "who=cli", "--wait", "--json", "src/train.py"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "Completed" and data["experiment"] == "cli"
    assert Run.get(ws, data["runId"]).get_tags()["who"] == "cli"


@pytest.mark.integration
def test_cancel_a_submitted_run_stops_it_and_follow_exits_1(project, ws):
    run_id = invoke("run", "submit", "-e", "cli", "src/train.py", "--sleep").stdout.strip()
    run = Run.get(ws, run_id)
    deadline = time.monotonic() + 60
    while run.get_status() != "Running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.get_status() == "Running"
    canceled = invoke("run", "cancel", run_id)
    assert canceled.exit_code == 0, canceled.output
    followed = invoke("run", "logs", run_id, "--follow")
    assert followed.exit_code == 1
    assert f"Run {run_id} was canceled." in followed.stderr
    assert run.get_status() == "Canceled"

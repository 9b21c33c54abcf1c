"""Submitting real scripts to local compute, run by real executor processes: success,
crashes, bad arguments, exit codes, data references, environments, the submitter exiting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from runyard.core import Environment, Experiment, Run, ScriptRunConfig
from runyard.errors import RunFailed, RunTimeout
from runyard.train.estimator import Estimator

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


@pytest.fixture
def exp(ws):
    return Experiment(ws, "submit")


def _source(tmp_path, body, name="train.py", extra=None):
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    for rel, text in (extra or {}).items():
        (folder / rel).write_text(text)
    return str(folder)


def _driver_log(run):
    return run._read_file("runyard-logs/driver.txt").decode()


def test_submitted_script_logs_metrics_files_and_output(exp, here, tmp_path, capsys):
    src = _source(
        tmp_path,
        """
        import argparse, os, sys
        from runyard.core import Run
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int)
        args = parser.parse_args()
        run = Run.get_context()
        print("context", type(run).__name__, run.id)
        for epoch in range(args.epochs):
            run.log("loss", 1.0 / (epoch + 1))
        os.makedirs("outputs/model", exist_ok=True)
        with open("outputs/model/weights.txt", "w") as f:
            f.write("w")
        os.makedirs("logs", exist_ok=True)
        with open("logs/train.log", "w") as f:
            f.write("epoch done")
        print("to stderr", file=sys.stderr)
        run.complete()  # SDK v1 scripts do this; the executor still uploads outputs first
        """,
    )
    run = exp.submit(ScriptRunConfig(src, "train.py", arguments=["--epochs", 3], environment=here))
    assert run.get_status() in ("Queued", "Preparing", "Starting", "Running")
    details = run.wait_for_completion(show_output=True)
    printed = capsys.readouterr().out
    assert details["status"] == "Completed"
    assert f"context Run {run.id}" in printed and "Streaming runyard-logs/driver.txt" in printed
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1 / 3]}
    names = run.get_file_names()
    for name in ("outputs/model/weights.txt", "logs/train.log", "runyard-logs/executor.txt"):
        assert name in names
    log = _driver_log(run)
    assert f"context Run {run.id}" in log and "to stderr" in log
    assert details["runDefinition"]["arguments"] == ["--epochs", "3"]
    assert details["environment"]["user_managed"] is True and details["environment"]["packages"]
    assert details["heartbeatTimeUtc"] is not None and details["runType"] == "submitted"
    model = run.register_model("m", model_path="outputs/model")
    assert model.version == 1
    scratch = tmp_path / "scratch" / run.id  # the working copy goes once the run is over
    deadline = time.monotonic() + 10
    while scratch.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not scratch.exists()


def test_crashing_script_fails_with_exit_code_and_traceback_keeping_its_metrics(
    exp, here, tmp_path
):
    src = _source(
        tmp_path,
        """
        from runyard.core import Run
        run = Run.get_context()
        run.log("before_crash", 42)
        raise ValueError("boom at epoch 3")
        """,
    )
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=here))
    with pytest.raises(RunFailed) as err:
        run.wait_for_completion()
    assert "ValueError: boom at epoch 3" in str(err.value) and "Traceback" in str(err.value)
    assert run.get_status() == "Failed"
    error = run.get_details()["error"]
    assert error["exitCode"] == 1 and "boom at epoch 3" in error["stderrTail"]
    assert run.get_metrics("before_crash") == {"before_crash": 42}
    assert "ValueError" in _driver_log(run)


def test_show_output_prints_a_failing_scripts_traceback_once_and_phases_in_order(
    exp, here, tmp_path, capsys
):
    src = _source(tmp_path, 'print("hello")\nraise ValueError("boom once")\n')
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=here))
    with pytest.raises(RunFailed) as err:
        run.wait_for_completion(show_output=True)
    text = capsys.readouterr().out
    assert text.count("Traceback (most recent call last)") == 1, text
    assert "ValueError: boom once (its output is above)" in text
    assert "Traceback" not in str(err.value) and "ValueError: boom once" in str(err.value)
    # The monitor's own status lines, in phase order, each after what the log said before
    # that phase: Running after the environment, Failed after the script's output.
    lines = text.splitlines()
    statuses = [line.removeprefix("Status: ") for line in lines if line.startswith("Status: ")]
    order = ["Queued", "Preparing", "Starting", "Running", "Failed"]
    assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
    assert statuses[-2:] == ["Failed", "Failed"]  # the last phase, then the summary's
    first_failed = lines.index("Status: Failed")
    assert lines.index("hello") < lines.index("Traceback (most recent call last):")
    assert lines.index("ValueError: boom once") < first_failed
    if "Status: Running" in lines:
        assert lines.index("Status: Running") > max(
            i for i, line in enumerate(lines) if "Environment ready" in line
        )


def test_bad_argument_fails_with_the_argparse_error(exp, here, tmp_path):
    src = _source(
        tmp_path,
        """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--batch-size", type=int)
        parser.parse_args()
        """,
    )
    run = exp.submit(
        ScriptRunConfig(src, "train.py", arguments=["--batch-size", "fifty"], environment=here)
    )
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["exitCode"] == 2
    assert "invalid int value: 'fifty'" in details["error"]["message"]


def test_non_zero_exit_fails_with_that_exit_code(exp, here, tmp_path):
    src = _source(tmp_path, "import sys\nprint('partial work')\nsys.exit(3)\n")
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=here))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed" and details["error"]["exitCode"] == 3
    assert "exited with code 3" in details["error"]["message"]
    assert "partial work" in _driver_log(run)


def test_run_goes_on_after_the_submitting_process_exits(ws, tmp_path):
    src = _source(tmp_path, "import time\ntime.sleep(1.5)\nprint('still here')\n")
    submitter = textwrap.dedent(
        f"""
        from runyard.core import Environment, Experiment, ScriptRunConfig, Workspace
        ws = Workspace.get("test-ws", path={str(tmp_path / "ws")!r})
        env = Environment("current")
        env.python.user_managed_dependencies = True
        run = Experiment(ws, "submit").submit(ScriptRunConfig({src!r}, "train.py",
                                                              environment=env))
        print(run.id)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", submitter], capture_output=True, text=True, check=True, timeout=60
    )
    exited_at = time.time()
    run = Run.get(ws, done.stdout.strip().splitlines()[-1])
    details = run.wait_for_completion(timeout_seconds=60)
    assert details["status"] == "Completed"
    assert run._refresh().ended_at > exited_at
    assert "still here" in _driver_log(run)


def test_data_references_resolve_to_local_paths(exp, here, ws, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "numbers.txt").write_text("1 2 3")
    ds = ws.get_default_datastore()
    ds.upload(str(data), target_path="numbers", show_progress=False)
    src = _source(
        tmp_path,
        """
        import os, sys
        mounted, downloaded = sys.argv[1], sys.argv[2]
        print("mount", open(os.path.join(mounted, "numbers.txt")).read())
        print("download", open(os.path.join(downloaded, "numbers.txt")).read())
        print("input", os.environ["RUNYARD_DATAREFERENCE_extra"])
        """,
    )
    config = ScriptRunConfig(
        src,
        "train.py",
        arguments=[ds.path("numbers").as_mount(), ds.path("numbers").as_download()],
        environment=here,
    )
    config._inputs = [ds.path("numbers", data_reference_name="extra").as_mount()]
    run = exp.submit(config)
    run.wait_for_completion()
    log = _driver_log(run)
    assert "mount 1 2 3" in log and "download 1 2 3" in log
    assert "input " + os.path.join(ds.url, "numbers") in log


def test_max_run_duration_stops_the_run_as_failed(exp, here, tmp_path):
    src = _source(tmp_path, "import time\nprint('long', flush=True)\ntime.sleep(60)\n")
    config = ScriptRunConfig(src, "train.py", environment=here, max_run_duration_seconds=1)
    details = exp.submit(config).wait_for_completion(raise_on_error=False, timeout_seconds=30)
    assert details["status"] == "Failed" and details["error"]["code"] == "RunTimeout"


def test_wait_with_a_timeout_raises_and_the_run_goes_on(exp, here, tmp_path):
    src = _source(tmp_path, "import time\ntime.sleep(2)\n")
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=here))
    with pytest.raises(RunTimeout, match="goes on"):
        run.wait_for_completion(timeout_seconds=0.3)
    assert run.wait_for_completion()["status"] == "Completed"


def test_use_gpu_without_a_gpu_runs_on_the_cpu_with_a_warning(exp, tmp_path):
    from runyard.node.processes import gpu_count

    if gpu_count():
        pytest.skip("this machine has a GPU")
    src = _source(tmp_path, "print('trained')\n")
    est = Estimator(src, entry_script="train.py", use_gpu=True, user_managed=True)
    run = exp.submit(est)
    details = run.wait_for_completion()
    assert any("no GPU" in w for w in details["warnings"])
    log = _driver_log(run)
    assert log.startswith("WARNING: use_gpu=True") and "trained" in log


def test_get_details_with_logs_and_get_all_logs(exp, here, tmp_path):
    src = _source(tmp_path, "import os\nos.makedirs('logs')\nopen('logs/a.txt','w').write('A')\n")
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=here))
    run.wait_for_completion()
    details = run.get_details_with_logs()
    assert details["logFiles"]["logs/a.txt"] == "A"
    assert "Status: Running" in details["logFiles"]["runyard-logs/executor.txt"]
    written = run.get_all_logs(destination=str(tmp_path / "all-logs"))
    assert sorted(os.path.relpath(p, tmp_path / "all-logs") for p in written) == [
        "logs/a.txt",
        "runyard-logs/driver.txt",
        "runyard-logs/environment.txt",
        "runyard-logs/executor.txt",
    ]
    restored = run.restore_snapshot(path=str(tmp_path / "restored"))
    assert os.listdir(restored) == ["train.py"]


def test_environment_with_a_pip_package_is_built_then_taken_from_cache(exp, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_ENV_CACHE", str(tmp_path / "envs"))
    src = _source(tmp_path, "import six\nprint('six', six.__version__)\n")
    env = Environment("with-six")
    from runyard.core.conda_dependencies import CondaDependencies

    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six==1.16.0"])
    first = exp.submit(ScriptRunConfig(src, "train.py", environment=env))
    first_details = first.wait_for_completion(timeout_seconds=300)
    second = exp.submit(ScriptRunConfig(src, "train.py", environment=env))
    second_details = second.wait_for_completion(timeout_seconds=120)
    assert first_details["environment"]["cache_hit"] is False
    assert second_details["environment"]["cache_hit"] is True
    assert second_details["environment"]["packages"]["six"] == "1.16.0"
    assert "six 1.16.0" in _driver_log(second)
    # One summary line in the log; the package list whole in a run file.
    executor_log = first._read_file("runyard-logs/executor.txt").decode()
    assert "six==" not in executor_log
    assert "packages; the list: runyard-logs/environment.txt" in executor_log
    listing = first._read_file("runyard-logs/environment.txt").decode()
    assert "six==1.16.0" in listing.splitlines()
    assert json.dumps(first_details["environment"]["packages"]) == json.dumps(
        second_details["environment"]["packages"]
    )


def test_environment_that_cannot_be_built_fails_in_preparing(exp, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_ENV_CACHE", str(tmp_path / "envs"))
    src = _source(tmp_path, "print('never')\n")
    env = Environment("broken")
    from runyard.core.conda_dependencies import CondaDependencies

    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["runyard-test-no-such-package-xyz==0.0.1"]
    )
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=env))
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "EnvironmentBuildFailed"
    assert "runyard-test-no-such-package-xyz" in details["error"]["message"]
    executor_log = run._read_file("runyard-logs/executor.txt").decode()
    assert "Status: Preparing" in executor_log and "Status: Running" not in executor_log
    assert "runyard-logs/driver.txt" not in run.get_file_names()


def test_script_that_fails_its_own_run_keeps_that_error_and_its_outputs(exp, here, tmp_path):
    src = _source(
        tmp_path,
        """
        import os
        from runyard.core import Run
        os.makedirs("outputs", exist_ok=True)
        open("outputs/partial.txt", "w").write("half")
        Run.get_context().fail("validation data is empty")
        """,
    )
    run = exp.submit(ScriptRunConfig(src, "train.py", environment=here))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["message"] == "validation data is empty"
    assert "outputs/partial.txt" in run.get_file_names()

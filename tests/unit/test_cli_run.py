"""``runyard run list|show|metrics|download|cancel`` on a real embedded workspace."""

from __future__ import annotations

import json
import math

import pytest
from cli_helpers import invoke, one_error_line

from runyard.core import Experiment


@pytest.fixture
def done_run(here, tmp_path):
    """A completed run with scalar series, NaN/inf, a table, tags and files."""
    outputs = tmp_path / "outputs"
    (outputs / "model").mkdir(parents=True)
    (outputs / "model" / "weights.bin").write_bytes(b"w" * 100)
    (outputs / "report.txt").write_text("ok")
    with Experiment(here, "mnist").start_logging(display_name="first try") as run:
        for epoch in range(12):
            run.log("Loss", 1.0 / (epoch + 1), step=epoch)
        run.log("Accuracy", 0.97)
        run.log("Bad", float("nan"))
        run.log_list("Bounds", [float("-inf"), 0.0, float("inf")])
        run.log_row("Table", epoch=1, acc=0.5)
        run.log_row("Table", epoch=2, acc=0.7)
        run.tag("stage", "dev")
        run.upload_folder("outputs", str(outputs))
    return run


def test_list_shows_runs_newest_first_with_stable_json_keys(here):
    exp = Experiment(here, "mnist")
    first = exp.start_logging()
    first.complete()
    second = exp.start_logging()
    data = json.loads(invoke("run", "list", "--json").stdout)
    assert [r["runId"] for r in data] == [second.id, first.id]
    assert set(data[0]) == {
        "runId",
        "number",
        "experiment",
        "displayName",
        "status",
        "runType",
        "target",
        "parentRunId",
        "createdTimeUtc",
        "startTimeUtc",
        "endTimeUtc",
        "tags",
    }
    assert [r["status"] for r in data] == ["Running", "Completed"]
    table = invoke("run", "list")
    assert table.exit_code == 0
    assert first.id in table.stdout and second.id in table.stdout


def test_list_filters_by_experiment_and_status(here):
    Experiment(here, "a").start_logging().complete()
    running = Experiment(here, "a").start_logging()
    Experiment(here, "b").start_logging().complete()
    only_a = json.loads(invoke("run", "list", "--experiment", "a", "--json").stdout)
    assert {r["experiment"] for r in only_a} == {"a"} and len(only_a) == 2
    running_only = json.loads(invoke("run", "list", "--status", "running", "--json").stdout)
    assert [r["runId"] for r in running_only] == [running.id]
    both = invoke("run", "list", "--status", "Running", "--status", "Completed", "--json")
    assert len(json.loads(both.stdout)) == 3


def test_list_limit_keeps_the_newest_and_says_there_are_more(here):
    exp = Experiment(here, "many")
    ids = []
    for _ in range(4):
        run = exp.start_logging()
        run.complete()
        ids.append(run.id)
    result = invoke("run", "list", "--limit", "2", "--json")
    assert [r["runId"] for r in json.loads(result.stdout)] == ids[::-1][:2]
    assert "--limit" in result.stderr
    everything = invoke("run", "list", "--limit", "0", "--json")
    assert len(json.loads(everything.stdout)) == 4
    assert everything.stderr == ""


def test_list_hides_child_runs_unless_asked(here):
    parent = Experiment(here, "hd").start_logging()
    child = parent.child_run()
    top = json.loads(invoke("run", "list", "--json").stdout)
    assert [r["runId"] for r in top] == [parent.id]
    every = json.loads(invoke("run", "list", "--include-children", "--json").stdout)
    assert {r["runId"] for r in every} == {parent.id, child.id}
    assert {r["parentRunId"] for r in every} == {None, parent.id}


def test_list_of_an_unknown_experiment_names_the_known_ones(here):
    Experiment(here, "real")
    line = one_error_line(invoke("run", "list", "--experiment", "ghost"), 3)
    assert "'ghost'" in line and "real" in line


def test_show_prints_the_run_details(done_run):
    result = invoke("run", "show", done_run.id)
    assert result.exit_code == 0, result.output
    for text in (done_run.id, "first try", "mnist", "Completed", "stage=dev", "Accuracy"):
        assert text in result.stdout
    data = json.loads(invoke("run", "show", done_run.id, "--json").stdout)
    assert data["runId"] == done_run.id
    assert data["status"] == "Completed"
    assert data["tags"] == {"stage": "dev"}
    assert data["startTimeUtc"].endswith("Z")


def test_show_of_a_failed_run_includes_its_error(here):
    run = Experiment(here, "x").start_logging()
    run.fail(ValueError("exploded at step 3"))
    assert "exploded at step 3" in invoke("run", "show", run.id).stdout
    data = json.loads(invoke("run", "show", run.id, "--json").stdout)
    assert data["error"]["message"] == "exploded at step 3"


@pytest.mark.parametrize("command", ["show", "metrics", "download", "cancel", "logs"])
def test_unknown_run_id_is_not_found_with_exit_3(here, command):
    line = one_error_line(invoke("run", command, "no-such-run"), 3)
    assert "no-such-run" in line


def test_metrics_json_writes_nan_and_infinities_as_strings(done_run):
    result = invoke("run", "metrics", done_run.id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # strict JSON: NaN would not be allowed by parse_constant
    assert data["Bad"] == "NaN"
    assert data["Bounds"] == ["-Infinity", 0.0, "Infinity"]
    assert data["Accuracy"] == 0.97
    assert data["Loss"][0] == 1.0 and len(data["Loss"]) == 12
    assert data["Table"] == {"epoch": [1.0, 2.0], "acc": [0.5, 0.7]}
    assert "NaN" not in result.stdout.replace('"NaN"', "")


def test_metrics_json_is_strict_json(done_run):
    def refuse(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    json.loads(invoke("run", "metrics", done_run.id, "--json").stdout, parse_constant=refuse)


def test_metrics_table_summarises_each_metric(done_run):
    result = invoke("run", "metrics", done_run.id)
    assert result.exit_code == 0, result.output
    assert "(12 values)" in result.stdout
    assert "NaN" in result.stdout and "Infinity" in result.stdout
    assert "table: epoch, acc (2 rows)" in result.stdout


def test_metrics_name_shows_each_value_with_its_step(done_run):
    result = invoke("run", "metrics", done_run.id, "--name", "Loss")
    assert result.exit_code == 0, result.output
    assert "Step" in result.stdout
    assert "0.0833333" in result.stdout  # 1/12, the last epoch
    data = json.loads(invoke("run", "metrics", done_run.id, "--name", "Loss", "--json").stdout)
    assert list(data) == ["Loss"]
    assert math.isclose(data["Loss"][-1], 1 / 12)


def test_metrics_unknown_name_lists_the_run_metrics(done_run):
    line = one_error_line(invoke("run", "metrics", done_run.id, "--name", "F1"), 3)
    assert "'F1'" in line and "Accuracy" in line


def test_download_writes_the_run_files_with_their_names(done_run, tmp_path):
    out = tmp_path / "dl"
    result = invoke("run", "download", done_run.id, "--prefix", "outputs/", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "outputs" / "model" / "weights.bin").read_bytes() == b"w" * 100
    assert (out / "outputs" / "report.txt").read_text() == "ok"
    assert str(out / "outputs" / "report.txt") in result.stdout


def test_download_json_lists_the_local_paths(done_run, tmp_path):
    out = tmp_path / "dl"
    result = invoke("run", "download", done_run.id, "-o", str(out), "--json")
    data = json.loads(result.stdout)
    assert data["runId"] == done_run.id
    assert data["outputDirectory"] == str(out)
    assert str(out / "outputs" / "model" / "weights.bin") in data["files"]


@pytest.mark.parametrize("prefix", ["../", "../../etc", "/etc", "outputs/../../x", "%2e%2e/x"])
def test_download_prefix_that_escapes_is_refused_with_exit_2(done_run, tmp_path, prefix):
    result = invoke("run", "download", done_run.id, "--prefix", prefix, "-o", str(tmp_path / "d"))
    line = one_error_line(result, 2)
    assert "prefix" in line
    assert not (tmp_path / "d").exists()


def test_download_prefix_matching_nothing_lists_the_files(done_run, tmp_path):
    line = one_error_line(
        invoke("run", "download", done_run.id, "--prefix", "logs/", "-o", str(tmp_path)), 3
    )
    assert "outputs/report.txt" in line


def test_cancel_a_running_interactive_run_marks_it_canceled(here):
    run = Experiment(here, "x").start_logging()
    result = invoke("run", "cancel", run.id)
    assert result.exit_code == 0, result.output
    assert "Running -> Canceled" in result.stdout
    assert run.get_status() == "Canceled"


def test_cancel_a_finished_run_changes_nothing(done_run):
    result = invoke("run", "cancel", done_run.id, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"runId": done_run.id, "status": "Completed"}
    assert "already ended" in invoke("run", "cancel", done_run.id).stdout


def test_submit_refuses_a_pip_package_that_is_an_option(here, tmp_path):
    (tmp_path / "train.py").write_text("print('hi')\n")
    result = invoke(
        "run",
        "submit",
        "-e",
        "demo",
        "--source-dir",
        str(tmp_path),
        "--pip",
        "-r /etc/x",
        "train.py",
    )
    line = one_error_line(result)
    assert "starts with '-'" in line
    assert list(Experiment(here, "demo").get_runs()) == []


def test_submit_with_a_bad_experiment_name_names_the_experiment(here, tmp_path):
    (tmp_path / "train.py").write_text("print('hi')\n")
    result = invoke("run", "submit", "-e", "my exp", "--source-dir", str(tmp_path), "train.py")
    line = one_error_line(result, 2)
    assert "Experiment name 'my exp' is not allowed" in line
    assert "Environment" not in line


def test_metrics_show_text_values_as_text(here):
    with Experiment(here, "notes").start_logging() as run:
        run.log("optimizer", "adam")
        run.log("phase", "warmup", step=1)
        run.log("phase", "main", step=2)
    table = invoke("run", "metrics", run.id)
    assert table.exit_code == 0, table.output
    assert "adam" in table.stdout
    data = json.loads(invoke("run", "metrics", run.id, "--json").stdout)
    assert data == {"optimizer": "adam", "phase": ["warmup", "main"]}
    one = invoke("run", "metrics", run.id, "--name", "phase")
    assert "warmup" in one.stdout and "main" in one.stdout and "Step" in one.stdout

"""``runyard model register|list|show|download|delete`` on a real embedded workspace."""

from __future__ import annotations

import json

import pytest
from cli_helpers import invoke, one_error_line

from runyard.core import Experiment, Model


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 50)
    (folder / "config.json").write_text("{}")
    return folder


def register(model_dir, *extra: str):
    result = invoke("model", "register", "--name", "mnist", "--path", str(model_dir), *extra)
    assert result.exit_code == 0, result.output
    return result


def test_register_a_folder_makes_version_1_then_2(here, model_dir):
    assert register(model_dir).stdout.strip() == "Registered mnist:1"
    assert register(model_dir).stdout.strip() == "Registered mnist:2"
    assert Model(here, "mnist").version == 2


def test_register_with_tags_properties_and_framework(here, model_dir):
    result = register(
        model_dir,
        "--tag",
        "stage=dev",
        "--tag",
        "note=a=b",
        "--property",
        "accuracy=0.97",
        "--description",
        "first",
        "--framework",
        "TensorFlow",
        "--framework-version",
        "2.16",
        "--json",
    )
    data = json.loads(result.stdout)
    assert data["id"] == "mnist:1"
    assert data["tags"] == {"stage": "dev", "note": "a=b"}
    assert data["properties"] == {"accuracy": "0.97"}
    assert (data["description"], data["framework"], data["frameworkVersion"]) == (
        "first",
        "TensorFlow",
        "2.16",
    )


@pytest.mark.parametrize("bad", ["stage", "=dev", " =x"])
def test_bad_tag_syntax_is_exit_2_and_says_key_value(here, model_dir, bad):
    result = invoke("model", "register", "--name", "m", "--path", str(model_dir), "--tag", bad)
    line = one_error_line(result, 2)
    assert "KEY=VALUE" in line
    assert Model.list(here) == []


def test_register_needs_exactly_one_source(here, model_dir):
    neither = invoke("model", "register", "--name", "m")
    assert "--path" in one_error_line(neither, 2)
    both = invoke("model", "register", "--name", "m", "--path", str(model_dir), "--run-id", "r")
    assert "exactly one" in one_error_line(both, 2)


def test_register_a_missing_path_is_not_found(here, tmp_path):
    result = invoke("model", "register", "--name", "m", "--path", str(tmp_path / "nope"))
    assert "nope" in one_error_line(result, 3)


def test_register_from_a_run_keeps_the_lineage(here, tmp_path):
    outputs = tmp_path / "outputs" / "model"
    outputs.mkdir(parents=True)
    (outputs / "w.bin").write_bytes(b"w")
    with Experiment(here, "train").start_logging() as run:
        run.upload_folder("outputs", str(tmp_path / "outputs"))
    result = invoke("model", "register", "--name", "from-run", "--run-id", run.id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["runId"], data["experimentName"]) == (run.id, "train")
    custom = invoke(
        "model", "register", "--name", "w", "--run-id", run.id, "--run-path", "outputs/model/w.bin"
    )
    assert custom.exit_code == 0, custom.output


def test_register_from_a_run_path_that_does_not_exist_lists_the_run_files(here, tmp_path):
    with Experiment(here, "train").start_logging() as run:
        run.upload_file("outputs/a.txt", __file__)
    result = invoke("model", "register", "--name", "m", "--run-id", run.id, "--run-path", "nope")
    assert "outputs/a.txt" in one_error_line(result, 3)


def test_list_filters_by_name_tag_and_latest(here, model_dir):
    register(model_dir, "--tag", "stage=dev")
    register(model_dir, "--tag", "stage=prod")
    invoke("model", "register", "--name", "other", "--path", str(model_dir), "--tag", "x=1")
    every = json.loads(invoke("model", "list", "--json").stdout)
    assert sorted(m["id"] for m in every) == ["mnist:1", "mnist:2", "other:1"]
    by_name = json.loads(invoke("model", "list", "--name", "mnist", "--json").stdout)
    assert [m["id"] for m in by_name] == ["mnist:2", "mnist:1"]
    prod = json.loads(invoke("model", "list", "--tag", "stage=prod", "--json").stdout)
    assert [m["id"] for m in prod] == ["mnist:2"]
    has_stage = json.loads(invoke("model", "list", "--tag", "stage", "--json").stdout)
    assert len(has_stage) == 2
    latest = json.loads(invoke("model", "list", "--latest", "--json").stdout)
    assert sorted(m["id"] for m in latest) == ["mnist:2", "other:1"]
    table = invoke("model", "list")
    assert "mnist" in table.stdout and "stage=prod" in table.stdout


def test_list_with_no_match_says_so_on_stderr(here):
    result = invoke("model", "list", "--name", "ghost")
    assert result.exit_code == 0
    assert result.stdout == "" and "No models match" in result.stderr
    assert json.loads(invoke("model", "list", "--name", "ghost", "--json").stdout) == []


def test_show_latest_and_given_version(here, model_dir):
    register(model_dir, "--description", "v1")
    register(model_dir, "--description", "v2")
    assert json.loads(invoke("model", "show", "mnist", "--json").stdout)["version"] == 2
    data = json.loads(invoke("model", "show", "mnist:1", "--json").stdout)
    assert (data["version"], data["description"]) == (1, "v1")
    assert set(data) >= {"id", "name", "version", "tags", "properties", "runId", "url"}
    assert "mnist:1" in invoke("model", "show", "mnist:1").stdout


@pytest.mark.parametrize("command", ["show", "download"])
def test_unknown_model_or_version_is_exit_3(here, model_dir, command):
    assert "ghost" in one_error_line(invoke("model", command, "ghost"), 3)
    register(model_dir)
    one_error_line(invoke("model", command, "mnist:7"), 3)


@pytest.mark.parametrize("bad", ["mnist:x", "mnist:0", "mnist:", ":3", "mnist:-1"])
def test_bad_model_version_syntax_is_exit_2(here, bad):
    assert "VERSION" in one_error_line(invoke("model", "show", bad), 2)


def test_download_writes_the_model_folder_and_refuses_to_overwrite(here, model_dir, tmp_path):
    register(model_dir)
    target = tmp_path / "dl"
    result = invoke("model", "download", "mnist:1", "--target", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(target / "model")
    assert (target / "model" / "weights.bin").read_bytes() == b"\x00\x01" * 50
    again = invoke("model", "download", "mnist:1", "--target", str(target))
    line = one_error_line(again, 1)
    assert "exists already; pass --exist-ok" in line and "another --target" in line
    assert "exist_ok=True" not in line
    forced = invoke("model", "download", "mnist", "--target", str(target), "--exist-ok", "--json")
    assert json.loads(forced.stdout) == {"id": "mnist:1", "path": str(target / "model")}


def test_delete_needs_an_explicit_version(here, model_dir):
    register(model_dir)
    line = one_error_line(invoke("model", "delete", "mnist", "--yes"), 2)
    assert "mnist:1" in line
    assert Model(here, "mnist").version == 1


def test_delete_asks_first_and_keeps_the_model_on_no(here, model_dir):
    register(model_dir)
    declined = invoke("model", "delete", "mnist:1", input="n\n")
    assert declined.exit_code == 1
    question, error = declined.stderr.splitlines()  # the prompt goes to stderr too
    assert question.startswith("Delete model mnist:1 and its files? [y/N]")
    assert error.startswith("Error: ") and "--yes" in error
    no_input = invoke("model", "delete", "mnist:1")
    assert no_input.exit_code == 1
    assert Model(here, "mnist", version=1).version == 1
    accepted = invoke("model", "delete", "mnist:1", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Deleted mnist:1" in accepted.stdout
    assert Model.list(here) == []


def test_delete_with_yes_removes_the_version_and_its_number_is_not_reused(here, model_dir):
    register(model_dir)
    register(model_dir)
    result = invoke("model", "delete", "mnist:2", "--yes", "--json")
    assert json.loads(result.stdout) == {"id": "mnist:2", "deleted": True}
    one_error_line(invoke("model", "delete", "mnist:2", "--yes"), 3)
    assert register(model_dir).stdout.strip() == "Registered mnist:3"

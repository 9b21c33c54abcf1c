"""``runyard compute list|show|create|delete`` through the SDK's ComputeTarget API."""

from __future__ import annotations

import json
import shutil
import tempfile

import pytest
from cli_helpers import invoke, one_error_line

from runyard.core.compute_target import ComputeTarget

TARGET_KEYS = {
    "name",
    "type",
    "state",
    "nodesBusy",
    "nodesIdle",
    "runningRuns",
    "queuedRuns",
    "config",
    "warnings",
    "notes",
}


def test_list_always_has_the_built_in_local_target(here):
    data = json.loads(invoke("compute", "list", "--json").stdout)
    assert [t["name"] for t in data] == ["local"]
    assert set(data[0]) == TARGET_KEYS
    assert data[0]["state"] == "Succeeded"
    assert "local" in invoke("compute", "list").stdout


def test_create_a_local_target_with_a_run_limit_then_show_it(here):
    created = invoke(
        "compute", "create", "two-slots", "--type", "local", "--max-concurrent-runs", "2"
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == "Compute target 'two-slots' (Local): Succeeded"
    shown = json.loads(invoke("compute", "show", "two-slots", "--json").stdout)
    assert shown["config"] == {"max_concurrent_runs": 2}
    assert shown["type"] == "Local"
    human = invoke("compute", "show", "two-slots").stdout.splitlines()
    assert [ln.split() for ln in human if "max_concurrent_runs" in ln] == [
        ["max_concurrent_runs", "2"]
    ]
    names = [t["name"] for t in json.loads(invoke("compute", "list", "--json").stdout)]
    assert names == ["local", "two-slots"]
    assert ComputeTarget(here, "two-slots").max_concurrent_runs == 2


def test_create_again_with_other_settings_is_refused(here):
    assert invoke("compute", "create", "cpu", "--type", "local").exit_code == 0
    same = invoke("compute", "create", "cpu", "--type", "local", "--json")
    assert same.exit_code == 0
    other = invoke("compute", "create", "cpu", "--type", "local", "--max-concurrent-runs", "3")
    assert "other settings" in one_error_line(other, 1)


@pytest.mark.parametrize(
    "options",
    [
        ["--type", "local", "--vm-size", "STANDARD_NC6"],
        ["--type", "local", "--max-nodes", "4"],
        ["--type", "cluster", "--max-concurrent-runs", "2"],
    ],
)
def test_options_of_the_other_kind_are_refused_with_exit_2(here, options):
    line = one_error_line(invoke("compute", "create", "t", *options), 2)
    assert "--type" in line


def test_a_huge_node_count_is_refused_before_anything_starts(here):
    result = invoke("compute", "create", "c", "--type", "cluster", "--max-nodes", str(10**20))
    assert "beyond the 10000 nodes" in one_error_line(result, 2)
    assert [t["name"] for t in json.loads(invoke("compute", "list", "--json").stdout)] == ["local"]


def test_missing_type_and_bad_numbers_are_usage_errors(here):
    one_error_line(invoke("compute", "create", "t"), 2)
    one_error_line(invoke("compute", "create", "t", "--type", "gpu"), 2)
    one_error_line(
        invoke("compute", "create", "t", "--type", "local", "--max-concurrent-runs", "0"),
        2,
        alone=False,
    )


def test_local_is_built_in_and_cannot_be_created_or_deleted(here):
    assert "built-in" in one_error_line(
        invoke("compute", "create", "local", "--type", "local"), 2, alone=False
    )
    assert "cannot be deleted" in one_error_line(
        invoke("compute", "delete", "local"), 2, alone=False
    )


def test_unknown_target_is_exit_3_listing_the_known_ones(here):
    invoke("compute", "create", "cpu", "--type", "local")
    line = one_error_line(invoke("compute", "show", "gpucluster"), 3)
    assert "'gpucluster'" in line and "local, cpu" in line
    one_error_line(invoke("compute", "delete", "gpucluster", "--yes"), 3)


def test_delete_asks_first_then_removes_the_target(here):
    invoke("compute", "create", "cpu", "--type", "local")
    declined = invoke("compute", "delete", "cpu", input="n\n")
    assert "--yes" in one_error_line(declined, 1, alone=False)  # after the prompt
    assert ComputeTarget(here, "cpu").name == "cpu"
    deleted = invoke("compute", "delete", "cpu", "--yes", "--json")
    assert json.loads(deleted.stdout) == {"name": "cpu", "deleted": True}
    assert [t["name"] for t in json.loads(invoke("compute", "list", "--json").stdout)] == ["local"]


@pytest.mark.ray
@pytest.mark.integration
def test_cluster_target_on_a_local_ray_head_runs_a_submitted_script_then_goes(
    here, tmp_path, monkeypatch
):
    # A short folder: Ray's unix socket paths must stay under ~100 characters.
    ray_dir = tempfile.mkdtemp(prefix="rycli", dir="/tmp")
    monkeypatch.setenv("RUNYARD_RAY_DIR", ray_dir)
    (tmp_path / "hello.py").write_text("print('hello from ray', flush=True)\n")
    try:
        created = invoke(
            "compute", "create", "rc", "--type", "cluster", "--vm-size", "cpu-1",
            "--max-nodes", "1", "--json",
        )  # fmt: skip
        assert created.exit_code == 0, created.output
        data = json.loads(created.stdout)
        assert (data["type"], data["state"]) == ("AmlCompute", "Succeeded")
        assert data["config"]["max_nodes"] == 1
        submitted = invoke("run", "submit", "-e", "on-ray", "-t", "rc", "--wait", "hello.py")
        assert submitted.exit_code == 0, submitted.output
        assert "hello from ray" in submitted.stdout
    finally:
        deleted = invoke("compute", "delete", "rc", "--yes")
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert deleted.exit_code == 0, deleted.output
    assert [t["name"] for t in json.loads(invoke("compute", "list", "--json").stdout)] == ["local"]

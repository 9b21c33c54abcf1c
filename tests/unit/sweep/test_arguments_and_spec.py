"""A trial's command line, the primary metric's reports, and sweep specs: no processes."""

from __future__ import annotations

import json
import math
import os

import pytest

from runyard.entities.data_reference import DataReferenceSpec
from runyard.entities.metric import MetricKind
from runyard.errors import InvalidArgument
from runyard.sweep.arguments import trial_arguments
from runyard.sweep.children import primary_values
from runyard.train.hyperdrive import BanditPolicy, GridParameterSampling
from runyard.train.hyperdrive.spec_file import config_from_spec, load_spec


def test_sampled_values_are_appended_as_flag_value_pairs():
    args, overridden = trial_arguments(["--epochs", "3"], {"--lr": 0.1, "batch": 32})
    assert args == ("--epochs", "3", "--lr", "0.1", "--batch", "32")
    assert overridden == []


def test_a_sampled_value_replaces_the_same_flag_and_reports_it():
    base = ["--lr", "0.5", "--epochs", "3", "--batch=8", "--verbose", "--lr2", "1"]
    args, overridden = trial_arguments(base, {"--lr": 0.1, "--batch": 16, "--verbose": 1})
    assert args == ("--epochs", "3", "--lr2", "1", "--lr", "0.1", "--batch", "16", "--verbose", "1")
    assert overridden == ["--batch", "--lr", "--verbose"]


def test_a_negative_number_after_a_flag_is_its_value_not_another_flag():
    args, _ = trial_arguments(["--shift", "-0.5", "--x", "1"], {"--shift": 2})
    assert args == ("--x", "1", "--shift", "2")


def test_data_references_in_the_arguments_are_kept_in_place():
    ref = DataReferenceSpec("ds", "mnist", "mnist", "mount", None, False)
    args, _ = trial_arguments(["--data-folder", ref], {"--lr": 0.25})
    assert args == ("--data-folder", ref, "--lr", "0.25")


def test_floats_keep_every_digit_on_the_command_line():
    args, _ = trial_arguments([], {"--lr": 0.1 + 0.2})
    assert float(args[1]) == 0.1 + 0.2


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (MetricKind.SCALAR, 0.5, [0.5]),
        (MetricKind.SCALAR, 3, [3.0]),
        (MetricKind.SCALAR, True, []),
        (MetricKind.LIST, [1, 2.5, "x"], [1.0, 2.5]),
        (MetricKind.ROW, {"a": 1}, []),
        (MetricKind.SCALAR, "text", []),
    ],
)
def test_each_logged_number_of_the_primary_metric_is_one_report(kind, value, expected):
    assert primary_values(kind, value) == expected


def test_nan_is_a_report_too():
    assert math.isnan(primary_values(MetricKind.SCALAR, float("nan"))[0])


def _spec(**changes):
    spec = {
        "script": "train.py",
        "space": {"--x": {"choice": [1, 2]}},
        "sampling": "grid",
        "policy": {"bandit": {"evaluation_interval": 2, "slack_factor": 0.1}},
        "primary_metric_name": "score",
        "max_total_runs": 2,
    }
    spec.update(changes)
    return spec


def test_a_spec_becomes_the_same_hyperdrive_config(tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")
    config = config_from_spec(_spec(), str(tmp_path))
    assert isinstance(config.hyperparameter_sampling, GridParameterSampling)
    assert isinstance(config.policy, BanditPolicy)
    assert config.max_concurrent_runs == 2  # v1: None means all at once
    assert os.path.samefile(config.source_directory, tmp_path)
    assert config.run_config.environment.python.user_managed_dependencies


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"scrpit": "x.py"}, "Unknown spec keys: scrpit"),
        ({"space": {"--x": {"choise": [1]}}}, "unknown expression 'choise'"),
        ({"sampling": "sobol"}, "sampling must be random, grid, bayesian"),
        ({"policy": {"patience": {}}}, "Unknown policy 'patience'"),
    ],
)
def test_a_bad_spec_is_refused_with_what_to_fix(tmp_path, changes, words):
    with pytest.raises(InvalidArgument, match=words):
        config_from_spec(_spec(**changes), str(tmp_path))


def test_a_missing_required_key_is_named(tmp_path):
    spec = _spec()
    del spec["primary_metric_name"]
    with pytest.raises(InvalidArgument, match="needs primary_metric_name"):
        config_from_spec(spec, str(tmp_path))


def test_yaml_and_json_specs_read_the_same(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(_spec()))
    (tmp_path / "s.yaml").write_text(
        "script: train.py\nspace:\n  --x: {choice: [1, 2]}\nsampling: grid\n"
        "policy: {bandit: {evaluation_interval: 2, slack_factor: 0.1}}\n"
        "primary_metric_name: score\nmax_total_runs: 2\n"
    )
    assert load_spec(str(tmp_path / "s.yaml")) == load_spec(str(tmp_path / "s.json"))

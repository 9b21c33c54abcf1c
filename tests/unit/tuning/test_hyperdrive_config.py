"""The SDK v1 names: the notebook's HyperDrive cells, and v1's validation rules."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
from fake_runner import FakeRunner

from runyard.core import ScriptRunConfig
from runyard.entities.run import RunStatus
from runyard.errors import InvalidArgument
from runyard.train.estimator import Estimator
from runyard.train.hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveConfigException,
    HyperDriveRunConfig,
    HyperDriveScenarioNotSupportedException,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    OptunaParameterSampling,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
    choice,
    lognormal,
    loguniform,
    normal,
    parameter_expressions,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from runyard.tuning import Goal, StudyState, TrialStatus, TuningController, TuningSpec


@pytest.fixture
def src(tmp_path):
    return ScriptRunConfig(
        source_directory=str(tmp_path), script="keras_mnist.py", arguments=["--data-folder", "data"]
    )


def notebook_sampling(**kwargs):
    return RandomParameterSampling(
        {
            "--batch-size": choice(25, 50, 100),
            "--first-layer-neurons": choice(10, 50, 200, 300, 500),
            "--second-layer-neurons": choice(10, 50, 200, 500),
            "--learning-rate": loguniform(-6, -1),
        },
        **kwargs,
    )


def config(src, **overrides):
    settings = dict(
        run_config=src,
        hyperparameter_sampling=notebook_sampling(seed=3),
        policy=BanditPolicy(evaluation_interval=2, slack_factor=0.1),
        primary_metric_name="Accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=20,
        max_concurrent_runs=4,
    )
    settings.update(overrides)
    return HyperDriveConfig(**settings)


def test_the_notebooks_sweep_runs_20_trials_4_at_a_time_through_the_engine(src):
    def script(params):  # bigger batches learn worse in this made-up world
        accuracy = 0.99 - params["--batch-size"] / 1000
        return [accuracy - 0.1, accuracy - 0.05, accuracy, accuracy], RunStatus.COMPLETED

    runner = FakeRunner(script)
    controller = TuningController(runner, config(src).to_tuning_spec())
    while not controller.step():
        pass
    state = controller.state
    assert len(runner.submissions) == 20 and runner.max_seen_concurrency == 4
    for trial in state.trials:
        assert math.exp(-6) <= trial.params["--learning-rate"] <= math.exp(-1)
        assert trial.params["--batch-size"] in (25, 50, 100)
    assert state.best_trial().params["--batch-size"] == 25
    canceled = [t for t in state.trials if t.status is TrialStatus.CANCELED]
    assert all(t.params["--batch-size"] == 100 for t in canceled)


def test_the_2019_form_takes_an_estimator(tmp_path):
    est = Estimator(
        source_directory=str(tmp_path),
        entry_script="keras_mnist.py",
        script_params={"--data-folder": "data"},
    )
    hdc = config(None, run_config=None, estimator=est)
    assert hdc.estimator is est and hdc.source_directory == str(tmp_path)


def test_to_tuning_spec_carries_every_setting(src):
    spec = config(src).to_tuning_spec()
    assert spec.sampler == "random" and spec.seed == 3
    assert spec.goal is Goal.MAXIMIZE and spec.primary_metric_name == "Accuracy"
    assert (spec.max_total_runs, spec.max_concurrent_runs, spec.max_duration_minutes) == (
        20,
        4,
        10080,
    )
    assert spec.policy.slack_factor == 0.1 and spec.policy.evaluation_interval == 2
    assert TuningSpec.from_json(json.loads(json.dumps(spec.to_json()))).to_json() == spec.to_json()


def test_parent_tags_are_v1s_json_strings(src):
    tags = config(src).parent_tags()
    assert json.loads(tags["primary_metric_config"]) == {"name": "Accuracy", "goal": "maximize"}
    generator = json.loads(tags["generator_config"])
    assert generator["name"] == "RANDOM"
    assert generator["parameter_space"]["--learning-rate"] == ["loguniform", [-6, -1]]
    assert json.loads(tags["policy_config"])["name"] == "Bandit"
    assert json.loads(tags["max_concurrent_jobs"]) == 4


@pytest.mark.parametrize(
    "expression, expected",
    [
        (choice(25, 50, 100), ["choice", [[25, 50, 100]]]),
        (choice([1, 2]), ["choice", [[1, 2]]]),
        (choice(range(1, 5)), ["choice", [[1, 2, 3, 4]]]),
        (randint(5), ["randint", [5]]),
        (uniform(0, 1), ["uniform", [0, 1]]),
        (quniform(0, 10, 2), ["quniform", [0, 10, 2]]),
        (loguniform(-6, -1), ["loguniform", [-6, -1]]),
        (qloguniform(0, 3, 1), ["qloguniform", [0, 3, 1]]),
        (normal(0, 1), ["normal", [0, 1]]),
        (qnormal(0, 1, 1), ["qnormal", [0, 1, 1]]),
        (lognormal(0, 1), ["lognormal", [0, 1]]),
        (qlognormal(0, 1, 1), ["qlognormal", [0, 1, 1]]),
    ],
)
def test_parameter_expressions_give_v1s_json(expression, expected):
    assert expression.to_json() == expected


def test_parameter_expressions_module_holds_the_same_functions():
    assert parameter_expressions.loguniform is loguniform
    with pytest.raises(InvalidArgument, match="at least one option"):
        choice()
    with pytest.raises(InvalidArgument, match="at least one option"):
        choice([])


def test_v1_policy_signatures_take_positional_arguments():
    bandit = BanditPolicy(2, 0.1)
    assert (bandit.evaluation_interval, bandit.slack_factor, bandit.policy_name) == (
        2,
        0.1,
        "Bandit",
    )
    truncation = TruncationSelectionPolicy(20, 1, 5)
    assert (truncation.truncation_percentage, truncation.delay_evaluation) == (20, 5)
    assert MedianStoppingPolicy(1, 5).policy_name == "MedianStopping"
    assert NoTerminationPolicy().policy_name == "Default"


def test_sampling_classes_serialise_with_v1_names():
    space = {"a": choice(1, 2)}
    assert RandomParameterSampling(space).to_json()["name"] == "RANDOM"
    assert GridParameterSampling(space).to_json()["name"] == "GRID"
    assert BayesianParameterSampling(space).to_json()["name"] == "BayesianOptimization"
    optuna = OptunaParameterSampling(space, sampler="cmaes", seed=1).to_json()
    assert optuna["properties"] == {"sampler": "cmaes", "seed": 1}


def test_grid_and_bayesian_refuse_v1s_unsupported_expressions():
    with pytest.raises(InvalidArgument, match="only choice"):
        GridParameterSampling({"lr": loguniform(-6, -1)})
    with pytest.raises(InvalidArgument, match="choice, uniform and quniform"):
        BayesianParameterSampling({"lr": loguniform(-6, -1)})
    with pytest.raises(InvalidArgument, match="Unknown Optuna sampler"):
        OptunaParameterSampling({"a": choice(1)}, sampler="hyperband")


def test_bayesian_with_a_policy_is_refused_as_in_v1_and_optuna_tpe_opts_in(src):
    space = {"--lr": uniform(0.001, 0.1)}
    with pytest.raises(HyperDriveScenarioNotSupportedException, match="OptunaParameterSampling"):
        config(src, hyperparameter_sampling=BayesianParameterSampling(space))
    tpe = config(src, hyperparameter_sampling=OptunaParameterSampling(space, "tpe"))
    assert tpe.to_tuning_spec().sampler == "optuna:tpe"


def test_bayesian_warns_about_a_small_budget_and_high_concurrency(src):
    sampling = BayesianParameterSampling({"--lr": uniform(0.001, 0.1), "--bs": choice(1, 2)})
    with pytest.warns(UserWarning) as caught:
        config(
            src,
            hyperparameter_sampling=sampling,
            policy=None,
            max_total_runs=30,
            max_concurrent_runs=25,
        )
    messages = " ".join(str(w.message) for w in caught)
    assert "at least 40" in messages and "max_concurrent_runs=25" in messages


def test_policy_none_means_no_termination_and_concurrency_none_means_all(src):
    hdc = config(src, policy=None, max_concurrent_runs=None)
    assert isinstance(hdc.policy, NoTerminationPolicy)
    assert hdc.max_concurrent_runs == 20


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"run_config": None}, "exactly one"),
        ({"estimator": "est"}, "exactly one"),
        ({"run_config": object()}, "must be a ScriptRunConfig"),
        ({"max_total_runs": 0}, "1 to 1000"),
        ({"max_total_runs": 1001}, "1 to 1000"),
        ({"max_concurrent_runs": 101}, "1 to 100"),
        ({"max_duration_minutes": 0}, "positive"),
        ({"primary_metric_name": ""}, "primary_metric_name"),
        ({"primary_metric_goal": "biggest"}, "MAXIMIZE or MINIMIZE"),
        ({"hyperparameter_sampling": {"a": choice(1)}}, "hyperparameter_sampling"),
        ({"policy": "bandit"}, "early-termination policy"),
    ],
)
def test_config_rules_raise_hyperdrive_config_exception(src, overrides, message):
    with pytest.raises(HyperDriveConfigException, match=message):
        config(src, **overrides)


def test_pipelines_are_not_supported(src):
    with pytest.raises(HyperDriveScenarioNotSupportedException, match="no pipelines"):
        config(src, run_config=None, pipeline=object())


def test_goal_is_read_from_a_string_in_any_case(src):
    assert config(src, primary_metric_goal="minimize").primary_metric_goal is (
        PrimaryMetricGoal.MINIMIZE
    )
    assert PrimaryMetricGoal.from_str("Maximize") is PrimaryMetricGoal.MAXIMIZE


def test_a_duration_above_seven_days_is_lowered_with_a_warning(src):
    with pytest.warns(UserWarning, match="10080"):
        hdc = config(src, max_duration_minutes=20000)
    assert hdc.max_duration_minutes == 10080


def test_sampled_names_that_override_script_params_are_warned_about(tmp_path):
    est = Estimator(
        source_directory=str(tmp_path),
        entry_script="train.py",
        script_params={"--data-folder": "data", "--batch-size": 50},
    )
    with pytest.warns(UserWarning, match="--batch-size"):
        config(None, run_config=None, estimator=est)


def parent(status="Completed", metric="Accuracy", goal=PrimaryMetricGoal.MAXIMIZE, runs=20):
    hdc = SimpleNamespace(
        primary_metric_name=metric,
        primary_metric_goal=goal,
        max_total_runs=runs,
        hyperparameter_sampling=notebook_sampling(),
    )
    return SimpleNamespace(
        id=f"hd_{status}_{metric}", get_status=lambda: status, hyperdrive_config=hdc
    )


def test_resume_from_checks_v1s_rules(src):
    assert len(config(src, resume_from=parent()).resume_from) == 1
    with pytest.raises(HyperDriveConfigException, match="at most 5"):
        config(src, resume_from=[parent() for _ in range(6)])
    with pytest.raises(HyperDriveConfigException, match="Completed or Canceled"):
        config(src, resume_from=parent(status="Running"))
    with pytest.raises(HyperDriveConfigException, match="must be the same"):
        config(src, resume_from=parent(goal=PrimaryMetricGoal.MINIMIZE))
    with pytest.raises(HyperDriveConfigException, match="add up to 1020"):
        config(src, resume_from=parent(runs=1000))


def child(run_id, parent_id="hd_1", status="Completed"):
    return SimpleNamespace(
        id=run_id, parent=SimpleNamespace(id=parent_id), get_status=lambda: status
    )


def test_resume_child_runs_checks_v1s_rules(src):
    assert (
        len(config(src, resume_child_runs=[child("hd_1_0"), child("hd_1_1")]).resume_child_runs)
        == 2
    )
    with pytest.raises(HyperDriveConfigException, match="same run twice"):
        config(src, resume_child_runs=[child("hd_1_0"), child("hd_1_0")])
    with pytest.raises(HyperDriveConfigException, match="more than max_total_runs"):
        config(src, max_total_runs=1, resume_child_runs=[child("a"), child("b")])
    with pytest.raises(HyperDriveConfigException, match="limit is 5"):
        config(src, resume_child_runs=[child(f"c{i}", f"hd_{i}") for i in range(6)])
    with pytest.raises(HyperDriveConfigException, match="it must have ended"):
        config(src, resume_child_runs=child("hd_1_0", status="Running"))
    orphan = SimpleNamespace(id="x", parent=None, get_status=lambda: "Completed")
    with pytest.raises(HyperDriveConfigException, match="no parent"):
        config(src, resume_child_runs=orphan)


def test_the_old_name_takes_the_estimator_first(tmp_path):
    est = Estimator(source_directory=str(tmp_path), entry_script="train.py")
    hdrc = HyperDriveRunConfig(est, notebook_sampling(), "Accuracy", "maximize", 10)
    assert isinstance(hdrc, HyperDriveConfig) and hdrc.max_concurrent_runs == 10


def test_a_grid_config_resumes_from_its_json_state(src):
    grid = GridParameterSampling({"--batch-size": choice(25, 50, 100)})
    spec = config(src, hyperparameter_sampling=grid, policy=None).to_tuning_spec()
    runner = FakeRunner(lambda p: ([0.5], RunStatus.COMPLETED))
    first = TuningController(runner, spec)
    first.step()
    state = StudyState.from_json(json.loads(json.dumps(first.state.to_json())))
    second = TuningController(runner, state=state)
    while not second.step():
        pass
    assert sorted(runner.submissions) == [0, 1, 2]

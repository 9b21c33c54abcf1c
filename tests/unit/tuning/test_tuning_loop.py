"""The tuning controller driven through an in-memory runner."""

from __future__ import annotations

import json
import math

import pytest
from fake_runner import FakeRunner

from runyard.entities.run import RunStatus
from runyard.errors import InvalidArgument
from runyard.tuning import (
    BanditPolicy,
    Choice,
    Goal,
    LogUniform,
    ResumedChild,
    StudyState,
    TrialRecord,
    TrialStatus,
    TuningController,
    TuningSpec,
    Uniform,
    to_optuna_study,
)

SPACE = {"--batch-size": Choice((25, 50, 100)), "--learning-rate": LogUniform(-6, -1)}


def spec(**overrides):
    settings = dict(
        space=SPACE,
        sampler="random",
        primary_metric_name="Accuracy",
        goal=Goal.MAXIMIZE,
        max_total_runs=6,
        max_concurrent_runs=2,
        seed=1,
    )
    settings.update(overrides)
    return TuningSpec(**settings)


def steady(params):
    return [0.5, 0.6, 0.7], RunStatus.COMPLETED


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def drive(controller, limit=200):
    for _ in range(limit):
        if controller.step():
            return controller.state
    raise AssertionError("the study did not end")


def test_study_runs_exactly_max_total_runs_and_never_exceeds_concurrency():
    runner = FakeRunner(steady)
    state = drive(TuningController(runner, spec(max_total_runs=7, max_concurrent_runs=3)))
    assert runner.submissions == list(range(7))
    assert runner.max_seen_concurrency == 3
    assert state.status == "Completed" and "max_total_runs (7)" in state.end_reason
    assert state.count(TrialStatus.COMPLETED) == 7


def test_failed_children_count_toward_the_budget():
    def crashy(params):
        return ([0.5], RunStatus.FAILED) if params["--batch-size"] == 25 else steady(params)

    runner = FakeRunner(crashy)
    state = drive(TuningController(runner, spec(max_total_runs=8)))
    assert len(runner.submissions) == 8
    failed = state.count(TrialStatus.FAILED)
    assert failed > 0 and failed + state.count(TrialStatus.COMPLETED) == 8
    assert all(t.error == "boom" for t in state.trials if t.status is TrialStatus.FAILED)


def test_a_grid_smaller_than_the_budget_makes_fewer_runs():
    runner = FakeRunner(steady)
    grid = {"a": Choice((1, 2)), "b": Choice(("x", "y"))}
    state = drive(TuningController(runner, spec(space=grid, sampler="grid", max_total_runs=20)))
    assert len(runner.submissions) == 4
    assert {(t.params["a"], t.params["b"]) for t in state.trials} == {
        (1, "x"),
        (1, "y"),
        (2, "x"),
        (2, "y"),
    }
    assert "grid" in state.end_reason


def test_the_policy_cancels_a_lagging_trial_with_its_reason():
    def script(params):
        if params["--batch-size"] == 25:
            return [0.1, 0.1, 0.1, 0.1], RunStatus.COMPLETED
        return [0.8, 0.8, 0.8, 0.8], RunStatus.COMPLETED

    runner = FakeRunner(script)
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=2)
    state = drive(TuningController(runner, spec(policy=policy, max_total_runs=10)))
    stopped = [t for t in state.trials if t.params["--batch-size"] == 25]
    assert stopped, "the seed should draw batch size 25 at least once"
    for trial in stopped:
        assert trial.status is TrialStatus.CANCELED
        assert trial.verdict.policy == "Bandit" and trial.verdict.interval == 2
        assert trial.verdict.threshold == pytest.approx(0.8 / 1.1)
        reason = runner.children[trial.run_id].cancel_reason
        assert "Bandit" in reason and "interval 2" in reason
    assert all(t.verdict is None for t in state.trials if t.params["--batch-size"] != 25)
    assert len(runner.submissions) == 10  # stopped trials count toward the budget


def test_max_duration_cancels_running_trials_and_submits_no_more():
    clock = Clock()
    runner = FakeRunner(lambda p: ([0.5] * 100, RunStatus.COMPLETED))
    controller = TuningController(runner, spec(max_duration_minutes=1), clock=clock)
    controller.step()
    clock.now += 61
    state = drive(controller)
    assert runner.submissions == [0, 1]
    assert all(t.status is TrialStatus.CANCELED for t in state.trials)
    assert all("max_duration_minutes" in c.cancel_reason for c in runner.children.values())
    assert state.status == "Completed" and "max_duration_minutes" in state.end_reason


def test_cancel_stops_every_running_trial_and_ends_canceled():
    runner = FakeRunner(lambda p: ([0.5] * 100, RunStatus.COMPLETED))
    controller = TuningController(runner, spec())
    controller.step()
    controller.cancel()
    state = drive(controller)
    assert state.status == "Canceled"
    assert runner.submissions == [0, 1]
    assert all(t.status is TrialStatus.CANCELED for t in state.trials)


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_at", range(1, 26, 2))  # a 6-trial study saves 25 times
def test_a_resumed_controller_submits_nothing_twice_and_loses_no_budget(crash_at):
    runner = FakeRunner(steady)
    saved = []

    def save(state):
        if len(saved) + 1 == crash_at:
            raise Crash  # the process dies while saving: the previous state is the last one
        saved.append(json.dumps(state.to_json()))

    first = TuningController(runner, spec(max_total_runs=6), on_change=save)
    with pytest.raises(Crash):
        drive(first)
    state = StudyState.from_json(json.loads(saved[-1])) if saved else None
    second = TuningController(runner, state=state) if state else TuningController(runner, spec())
    final = drive(second)
    assert sorted(runner.submissions) == list(range(6))  # each child started once
    assert [t.number for t in final.trials] == list(range(6))
    assert all(t.status is TrialStatus.COMPLETED for t in final.trials)
    assert all(len(t.reports) == 3 for t in final.trials)  # no report lost or doubled


def test_a_resumed_tpe_study_continues_numbering_and_records_a_seed():
    runner = FakeRunner(steady)
    controller = TuningController(runner, spec(sampler="optuna:tpe", seed=None))
    for _ in range(3):
        controller.step()
    state = StudyState.from_json(json.loads(json.dumps(controller.state.to_json())))
    assert isinstance(state.seed, int)
    final = drive(TuningController(runner, state=state))
    assert sorted(runner.submissions) == list(range(6))
    assert final.count(TrialStatus.COMPLETED) == 6


def test_inherited_trials_inform_the_policy():
    inherited = [TrialRecord(0, {}, TrialStatus.COMPLETED, reports=((1, 0.9),), source="hd_1")]
    runner = FakeRunner(lambda p: ([0.5, 0.5], RunStatus.COMPLETED))
    policy = BanditPolicy(slack_amount=0.1)
    state = drive(
        TuningController(runner, spec(policy=policy, max_total_runs=2), inherited=inherited)
    )
    assert all(t.status is TrialStatus.CANCELED for t in state.trials)
    assert state.best_trial().source == "hd_1"
    assert state.best_trial(include_inherited=False).source == ""


def test_resumed_child_runs_go_first_with_their_parameters():
    runner = FakeRunner(steady)
    old = ResumedChild("hd_0_3", {"--batch-size": 50, "--learning-rate": 0.01})
    drive(TuningController(runner, spec(max_total_runs=3), resume_children=[old]))
    first = runner.children["study_0"]
    assert first.params == dict(old.params) and first.resume_from == "hd_0_3"
    assert runner.children["study_1"].resume_from is None


def test_tpe_with_early_termination_tells_stopped_trials_as_pruned():
    def script(params):
        good = params["x"] > 0.5
        return [0.9 if good else 0.1] * 4, RunStatus.COMPLETED

    runner = FakeRunner(script)
    tuned = spec(
        space={"x": Uniform(0, 1)},
        sampler="optuna:tpe",
        policy=BanditPolicy(slack_factor=0.1),
        max_total_runs=12,
    )
    state = drive(TuningController(runner, tuned))
    study = to_optuna_study(state)
    states = {t.user_attrs["trial_number"]: t.state.name for t in study.trials}
    for trial in state.trials:
        expected = "PRUNED" if trial.status is TrialStatus.CANCELED else "COMPLETE"
        assert states[trial.number] == expected
    assert "PRUNED" in states.values()
    assert study.best_value == pytest.approx(0.9)
    assert study.best_trial.user_attrs["run_id"].startswith("study_")


def test_study_state_survives_json_unchanged():
    runner = FakeRunner(lambda p: ([0.5, float("nan")], RunStatus.COMPLETED))
    state = drive(TuningController(runner, spec(policy=BanditPolicy(slack_amount=0.3))))
    restored = StudyState.from_json(json.loads(json.dumps(state.to_json())))
    # NaN != NaN, so compare the JSON forms, then the NaN itself.
    assert restored.to_json() == state.to_json()
    assert restored.spec == state.spec and restored.seed == state.seed
    assert math.isnan(restored.trials[0].reports[1][1])


def test_a_controller_needs_exactly_one_of_spec_and_state():
    with pytest.raises(InvalidArgument, match="either a spec or a saved state"):
        TuningController(FakeRunner(steady))

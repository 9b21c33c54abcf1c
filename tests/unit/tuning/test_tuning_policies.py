"""Early-termination policies against hand-worked examples, v1's documented ones first."""

from __future__ import annotations

import pytest

from runyard.errors import InvalidArgument
from runyard.tuning.policies import (
    BanditPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
    policy_from_json,
)
from runyard.tuning.records import Goal

MAX, MIN = Goal.MAXIMIZE, Goal.MINIMIZE


def flat(value, intervals, start=0.5):
    """Reports rising linearly from ``start`` to ``value`` at the last interval."""
    step = (value - start) / max(1, intervals - 1)
    return [(i, start + step * (i - 1)) for i in range(1, intervals + 1)]


def stopped(policy, series, goal=MAX, running=None):
    running = list(series) if running is None else running
    return {v.trial: v for v in policy.evaluate(series, goal, running)}


def test_bandit_slack_factor_follows_v1s_documented_example():
    # v1: best run at interval 10 reports 0.8, slack_factor 0.2 -> runs whose best at
    # interval 10 is below 0.8 / 1.2 = 0.667 are canceled.
    policy = BanditPolicy(slack_factor=0.2, evaluation_interval=1)
    series = {0: flat(0.8, 10), 1: flat(0.66, 10), 2: flat(0.67, 10)}
    verdicts = stopped(policy, series)
    assert set(verdicts) == {1}
    assert verdicts[1].interval == 10
    assert verdicts[1].value == pytest.approx(0.66)
    assert verdicts[1].threshold == pytest.approx(0.8 / 1.2)
    assert "Bandit" in verdicts[1].reason and "interval 10" in verdicts[1].reason


def test_bandit_slack_factor_point_one_keeps_ninety_one_percent_of_the_best():
    # v1's how-to: slack_factor=0.1 keeps runs within 1/(1+0.1), about 91 %, of the best.
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)
    series = {0: flat(0.8, 10), 1: flat(0.8 * 0.90, 10), 2: flat(0.8 * 0.92, 10)}
    assert set(stopped(policy, series)) == {1}


def test_bandit_slack_amount_subtracts_from_the_best():
    policy = BanditPolicy(slack_amount=0.2, evaluation_interval=1)
    series = {0: flat(0.8, 10), 1: flat(0.59, 10), 2: flat(0.61, 10)}
    verdicts = stopped(policy, series)
    assert set(verdicts) == {1}
    assert verdicts[1].threshold == pytest.approx(0.6)


def test_bandit_does_nothing_before_delay_evaluation():
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)
    early = {0: [(i, 0.9) for i in range(1, 5)], 1: [(i, 0.1) for i in range(1, 5)]}
    assert stopped(policy, early) == {}
    at_five = {0: [(i, 0.9) for i in range(1, 6)], 1: [(i, 0.1) for i in range(1, 6)]}
    assert set(stopped(policy, at_five)) == {1}


def test_bandit_judges_at_the_latest_multiple_of_evaluation_interval():
    policy = BanditPolicy(slack_amount=0.1, evaluation_interval=2)
    # Trial 1 is bad at interval 2 and recovers at 3: judged at 2, it is canceled.
    series = {0: [(1, 0.9), (2, 0.9), (3, 0.9)], 1: [(1, 0.1), (2, 0.1), (3, 0.95)]}
    verdicts = stopped(policy, series, running=[1])
    assert verdicts[1].interval == 2 and verdicts[1].value == pytest.approx(0.1)


def test_bandit_compares_each_runs_best_so_far_not_its_last_value():
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=1)
    series = {0: [(1, 0.5), (2, 0.8)], 1: [(1, 0.79), (2, 0.2)]}
    assert stopped(policy, series) == {}


def test_bandit_judges_a_trial_ahead_of_the_others_where_they_are():
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=1)
    # Trial 1 is first to interval 3; trial 0 has only reached interval 1 (at 0.9), so
    # trial 1 is judged at interval 1, on its values up to there: it cannot outrun the
    # policy by reporting faster than the others.
    series = {0: [(1, 0.9)], 1: [(1, 0.2), (2, 0.2), (3, 0.2)]}
    verdict = stopped(policy, series, running=[1])[1]
    assert (verdict.interval, verdict.value) == (1, 0.2)
    # Alone (no other trial has reported), a trial is compared only with itself.
    assert stopped(policy, {1: [(1, 0.2), (2, 0.2)]}, running=[1]) == {}


def test_bandit_for_minimize_is_the_mirror_image():
    factor = BanditPolicy(slack_factor=0.2, evaluation_interval=1)
    series = {0: [(1, 1.0)], 1: [(1, 1.19)], 2: [(1, 1.21)]}
    verdicts = stopped(factor, series, goal=MIN)
    assert set(verdicts) == {2}
    assert verdicts[2].threshold == pytest.approx(1.2)
    amount = BanditPolicy(slack_amount=0.5, evaluation_interval=1)
    assert set(stopped(amount, {0: [(1, 1.0)], 1: [(1, 1.6)], 2: [(1, 1.4)]}, goal=MIN)) == {1}


def test_bandit_slack_factor_with_a_negative_metric_keeps_the_best_run():
    # Maximising a negative score (e.g. -loss): best -1.0, slack 0.1 -> threshold
    # -1.0 - 1.0 * 0.1 / 1.1 = -1.0909; v1's literal best / 1.1 = -0.909 would cancel the
    # best run itself.
    policy = BanditPolicy(slack_factor=0.1)
    verdicts = stopped(policy, {0: [(1, -1.0)], 1: [(1, -1.05)], 2: [(1, -1.2)]})
    assert set(verdicts) == {2}
    assert verdicts[2].threshold == pytest.approx(-1.0 - 0.1 / 1.1)
    minimize = stopped(policy, {0: [(1, -1.0)], 1: [(1, -0.95)], 2: [(1, -0.85)]}, goal=MIN)
    assert set(minimize) == {2}


def test_policies_never_stop_trials_that_are_not_running():
    policy = BanditPolicy(slack_amount=0.1)
    series = {0: [(1, 0.9)], 1: [(1, 0.1)], ("inherited", "old", 0): [(1, 0.1)]}
    assert stopped(policy, series, running=[0]) == {}


def test_median_stopping_compares_best_with_the_median_of_running_averages():
    policy = MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=3)
    series = {
        0: [(1, 0.6), (2, 0.7), (3, 0.8)],  # average 0.7, best 0.8
        1: [(1, 0.5), (2, 0.5), (3, 0.5)],  # average 0.5, best 0.5
        2: [(1, 0.2), (2, 0.3), (3, 0.4)],  # average 0.3, best 0.4
    }
    # median of averages (0.7, 0.5, 0.3) = 0.5; only trial 2's best (0.4) is below.
    verdicts = stopped(policy, series)
    assert set(verdicts) == {2}
    assert verdicts[2].threshold == pytest.approx(0.5)
    assert verdicts[2].policy == "MedianStopping"


def test_median_stopping_spares_a_lone_run():
    assert stopped(MedianStoppingPolicy(), {0: [(1, 0.1), (2, 0.0)]}) == {}


def test_truncation_cancels_the_lowest_percentage_at_the_interval():
    policy = TruncationSelectionPolicy(truncation_percentage=40, evaluation_interval=1)
    series = {n: [(1, v)] for n, v in enumerate([0.9, 0.1, 0.5, 0.3, 0.7])}
    verdicts = stopped(policy, series)
    # floor(5 * 40 %) = 2 runs: 0.1 and 0.3; the lowest kept value is 0.5.
    assert set(verdicts) == {1, 3}
    assert verdicts[3].threshold == pytest.approx(0.5)


def test_truncation_counts_finished_runs_but_cancels_only_running_ones():
    policy = TruncationSelectionPolicy(truncation_percentage=20)
    series = {n: [(1, v)] for n, v in enumerate([0.1, 0.2, 0.5, 0.6, 0.9])}
    assert stopped(policy, series, running=[1, 2]) == {}  # the worst, trial 0, finished
    assert set(stopped(policy, series, running=[0, 1])) == {0}


def test_truncation_does_not_penalise_a_young_run_for_its_early_values():
    policy = TruncationSelectionPolicy(truncation_percentage=50)
    # Old runs are at 0.9 by interval 5 but were 0.2 at interval 1: the young run's 0.3 at
    # interval 1 is compared with their interval-1 values, and is the best of them.
    old = [(1, 0.2), (2, 0.5), (3, 0.7), (4, 0.8), (5, 0.9)]
    series = {0: old, 1: old, 2: [(1, 0.3)]}
    assert 2 not in stopped(policy, series, running=[2])


def test_truncation_at_minimize_cuts_the_highest_values():
    policy = TruncationSelectionPolicy(truncation_percentage=50)
    series = {0: [(1, 3.0)], 1: [(1, 1.0)]}
    assert set(stopped(policy, series, goal=MIN)) == {0}


def test_no_termination_never_cancels():
    series = {0: [(1, 1.0)], 1: [(1, -100.0)]}
    assert stopped(NoTerminationPolicy(), series) == {}


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: BanditPolicy(), "exactly one"),
        (lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1), "exactly one"),
        (lambda: BanditPolicy(slack_factor=0), "exactly one"),  # v1's truthiness check
        (lambda: BanditPolicy(slack_factor=-0.1), "positive"),
        (lambda: BanditPolicy(slack_factor=0.1, evaluation_interval=0), "evaluation_interval"),
        (lambda: BanditPolicy(slack_factor=0.1, evaluation_interval=1.5), "evaluation_interval"),
        (lambda: MedianStoppingPolicy(delay_evaluation=-1), "delay_evaluation"),
        (lambda: TruncationSelectionPolicy(truncation_percentage=0), "1 to 99"),
        (lambda: TruncationSelectionPolicy(truncation_percentage=100), "1 to 99"),
        (lambda: TruncationSelectionPolicy(truncation_percentage=10.0), "1 to 99"),
    ],
)
def test_v1_policy_validation_rules(build, message):
    with pytest.raises(InvalidArgument, match=message):
        build()


@pytest.mark.parametrize(
    "policy",
    [
        NoTerminationPolicy(),
        BanditPolicy(slack_factor=0.1, evaluation_interval=2, delay_evaluation=4),
        MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5),
        TruncationSelectionPolicy(truncation_percentage=20, delay_evaluation=3),
    ],
)
def test_policies_round_trip_through_v1s_json(policy):
    assert policy_from_json(policy.to_json()) == policy


def test_v1_policy_names_in_json():
    assert BanditPolicy(slack_amount=1).to_json()["name"] == "Bandit"
    assert NoTerminationPolicy().to_json() == {"name": "Default", "properties": {}}
    assert policy_from_json(None) == NoTerminationPolicy()
    with pytest.raises(InvalidArgument, match="known"):
        policy_from_json({"name": "Hyperband"})

"""Parameter expressions: v1's rules, v1's sampling formulas, v1's JSON form."""

from __future__ import annotations

import math
import random

import pytest

from runyard.errors import InvalidArgument
from runyard.tuning.space import (
    Choice,
    LogNormal,
    LogUniform,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    RandInt,
    Uniform,
    expression_from_json,
    space_from_json,
    space_to_json,
)

DRAWS = 2000


def draws(expression, n=DRAWS, seed=0):
    rng = random.Random(seed)
    return [expression.sample(rng) for _ in range(n)]


def test_loguniform_takes_natural_log_bounds_as_the_notebook_expects():
    values = draws(LogUniform(-6, -1))
    assert min(values) >= math.exp(-6)
    assert max(values) <= math.exp(-1)
    # Spread over the whole range in log space, not clustered at one end.
    assert min(values) < 0.004 and max(values) > 0.25


def test_uniform_stays_within_both_bounds():
    values = draws(Uniform(-2.5, 3))
    assert all(-2.5 <= v <= 3 for v in values)


def test_randint_draws_every_integer_below_upper_and_never_upper():
    assert set(draws(RandInt(4))) == {0, 1, 2, 3}


def test_choice_draws_every_option_and_nothing_else():
    assert set(draws(Choice((25, 50, 100)))) == {25, 50, 100}


def test_quniform_rounds_to_multiples_of_q_with_v1s_formula():
    # round(u / 4) * 4 for u in [0, 11]: 11/4 = 2.75 rounds to 3, so 12 lies above max_value.
    values = draws(QUniform(0, 11, 4))
    assert set(values) == {0, 4, 8, 12}
    assert all(isinstance(v, int) for v in values)


def test_qloguniform_rounds_the_exponentiated_draw():
    values = draws(QLogUniform(0, math.log(100), 5))
    assert all(v % 5 == 0 and 0 <= v <= 100 for v in values)
    assert len(set(values)) > 5


def test_normal_family_has_the_right_centre_and_sign():
    assert abs(sum(draws(Normal(3, 1))) / DRAWS - 3) < 0.1
    assert all(v % 2 == 0 for v in draws(QNormal(0, 10, 2)))
    assert all(v > 0 for v in draws(LogNormal(0, 1)))
    assert all(v % 3 == 0 and v >= 0 for v in draws(QLogNormal(2, 1, 3)))


def test_float_q_with_an_integral_value_is_accepted_and_gives_floats():
    assert all(v % 2 == 0 and isinstance(v, float) for v in draws(QUniform(0, 10, 2.0), 50))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Choice(()), "at least one option"),
        (lambda: Choice(([1, 2],)), "numbers, strings"),
        (lambda: RandInt(0), "positive int"),
        (lambda: RandInt(2.5), "positive int"),
        (lambda: Uniform(1, 1), "min_value must be <"),
        (lambda: Uniform(2, 1), "min_value must be <"),
        (lambda: QUniform(2, 1, 1), "min_value must be <"),
        (lambda: QUniform(0, 1, 0), "q must be a positive integer"),
        (lambda: QUniform(0, 1, -1), "q must be a positive integer"),
        (lambda: QUniform(0, 1, 0.5), "integral value"),
        (lambda: LogUniform(-1, -6), "min_value must be <="),
        (lambda: QLogUniform(0, 1, 0), "q must be"),
        (lambda: Normal(0, -1), "sigma must be >= 0"),
        (lambda: QNormal(0, 1, 0), "q must be"),
        (lambda: Uniform("a", 1), "must be a number"),
        (lambda: Uniform(0, math.inf), "finite"),
    ],
)
def test_v1_validation_rules_raise_invalid_argument(build, message):
    with pytest.raises(InvalidArgument, match=message):
        build()


def test_loguniform_allows_equal_bounds_as_v1_does():
    assert draws(LogUniform(-1, -1), 3) == [math.exp(-1)] * 3


def test_space_json_round_trip_uses_v1s_form():
    space = {
        "--batch-size": Choice((25, 50, 100)),
        "--learning-rate": LogUniform(-6, -1),
        "--q": QUniform(0, 10, 2),
        "--n": QLogNormal(1, 0.5, 3),
    }
    data = space_to_json(space)
    assert data["--batch-size"] == ["choice", [[25, 50, 100]]]
    assert data["--learning-rate"] == ["loguniform", [-6, -1]]
    assert space_from_json(data) == space


@pytest.mark.parametrize("bad", [["nope", [1]], "choice", ["choice", [1, 2]], ["uniform", [1]]])
def test_malformed_json_expressions_are_refused_with_the_known_kinds(bad):
    with pytest.raises(InvalidArgument):
        expression_from_json(bad)


def test_an_empty_space_is_refused():
    with pytest.raises(InvalidArgument, match="non-empty"):
        space_from_json({})

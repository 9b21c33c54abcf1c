"""Samplers: reproducible, within the space, v1's grid and Bayesian rules, warm start."""

from __future__ import annotations

import math

import pytest

from runyard.errors import InvalidArgument, InvalidState, MissingDependency
from runyard.tuning import samplers as samplers_module
from runyard.tuning.records import Goal, TrialRecord, TrialStatus
from runyard.tuning.rules import grid_size
from runyard.tuning.samplers import make_sampler
from runyard.tuning.space import (
    Choice,
    LogNormal,
    LogUniform,
    Normal,
    QLogUniform,
    QNormal,
    QUniform,
    RandInt,
    Uniform,
)

NOTEBOOK_SPACE = {
    "--batch-size": Choice((25, 50, 100)),
    "--first-layer-neurons": Choice((10, 50, 200, 300, 500)),
    "--second-layer-neurons": Choice((10, 50, 200, 500)),
    "--learning-rate": LogUniform(-6, -1),
}
EVERY_KIND = {
    "c": Choice(("a", "b")),
    "r": RandInt(5),
    "u": Uniform(-1, 1),
    "qu": QUniform(0, 20, 5),
    "lu": LogUniform(-6, -1),
    "qlu": QLogUniform(0, 5, 10),
    "n": Normal(0, 1),
    "qn": QNormal(10, 3, 2),
    "ln": LogNormal(0, 0.5),
}


def sweep(name, space, seed, n=12, value=lambda p: 0.0):
    sampler = make_sampler(name, space, Goal.MAXIMIZE, seed)
    out = []
    for _ in range(n):
        number, params = sampler.ask()
        out.append(params)
        sampler.tell(number, "complete", value(params))
    return out


@pytest.mark.parametrize("name", ["random", "bayesian", "optuna:tpe", "optuna:random"])
def test_samplers_repeat_themselves_with_the_same_seed_and_not_with_another(name):
    space = {k: v for k, v in NOTEBOOK_SPACE.items()}
    if name == "bayesian":
        space["--learning-rate"] = Uniform(0.001, 0.1)
    value = lambda p: -abs(p["--batch-size"] - 50)  # noqa: E731
    first = sweep(name, space, seed=7, value=value)
    assert sweep(name, space, seed=7, value=value) == first
    assert sweep(name, space, seed=8, value=value) != first


@pytest.mark.parametrize("name", ["random", "optuna:tpe", "optuna:random"])
def test_every_expression_kind_is_sampled_within_its_support(name):
    for params in sweep(name, EVERY_KIND, seed=3, n=15, value=lambda p: p["u"]):
        assert params["c"] in ("a", "b")
        assert params["r"] in range(5)
        assert -1 <= params["u"] <= 1
        assert params["qu"] % 5 == 0 and 0 <= params["qu"] <= 20
        assert math.exp(-6) <= params["lu"] <= math.exp(-1)
        assert params["qlu"] % 10 == 0
        assert params["qn"] % 2 == 0
        assert params["ln"] > 0
        assert math.isfinite(params["n"])


def test_random_sampling_depends_only_on_seed_and_trial_number():
    one = make_sampler("random", NOTEBOOK_SPACE, Goal.MAXIMIZE, 5)
    sequence = [one.ask()[1] for _ in range(6)]
    restored = make_sampler("random", NOTEBOOK_SPACE, Goal.MAXIMIZE, 5)
    restored.restore([TrialRecord(n, sequence[n], TrialStatus.COMPLETED) for n in range(3)])
    assert [restored.ask() for _ in range(3)] == [(n, sequence[n]) for n in range(3, 6)]


def test_grid_runs_the_cartesian_product_in_order_then_is_exhausted():
    sampler = make_sampler(
        "grid", {"a": Choice((1, 2)), "b": Choice(("x", "y", "z"))}, Goal.MAXIMIZE, 0
    )
    assert sampler.size == 6
    points = [sampler.ask()[1] for _ in range(6)]
    assert points[:3] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"}]
    assert {(p["a"], p["b"]) for p in points} == {(a, b) for a in (1, 2) for b in "xyz"}
    with pytest.raises(InvalidState, match="all 6"):
        sampler.ask()


def test_grid_size_of_the_notebook_choices_is_their_product():
    choices = {k: v for k, v in NOTEBOOK_SPACE.items() if isinstance(v, Choice)}
    assert grid_size(choices) == 3 * 5 * 4


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr": Uniform(0, 1)}, "only choice"),
        ({"a": Choice((1, "x"))}, "all or none"),
        ({"a": Choice((True, False))}, "int, float or str"),
    ],
)
def test_grid_refuses_what_v1_refuses(space, message):
    with pytest.raises(InvalidArgument, match=message):
        make_sampler("grid", space, Goal.MAXIMIZE, 0)


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr": LogUniform(-6, -1)}, "only choice, uniform and quniform"),
        ({"q": QUniform(0.5, 10, 1)}, "int arguments"),
        ({"q": QUniform(0, 200_001, 2)}, "at most 100000"),
    ],
)
def test_bayesian_refuses_what_v1_refuses(space, message):
    with pytest.raises(InvalidArgument, match=message):
        make_sampler("bayesian", space, Goal.MAXIMIZE, 0)


def test_tpe_moves_towards_the_good_region_after_its_startup_trials():
    space = {"x": Uniform(0, 1)}
    params = sweep("optuna:tpe", space, seed=1, n=40, value=lambda p: -((p["x"] - 0.9) ** 2))
    late = [p["x"] for p in params[25:]]
    assert sum(late) / len(late) > 0.7


def test_warm_start_trials_shape_tpe_and_restore_continues_the_numbering():
    space = {"x": Uniform(0, 1)}
    history = [
        TrialRecord(n, {"x": x}, TrialStatus.COMPLETED, reports=((1, -((x - 0.1) ** 2)),))
        for n, x in enumerate(i / 30 for i in range(30))
    ]
    sampler = make_sampler("optuna:tpe", space, Goal.MAXIMIZE, 0)
    sampler.warm_start(history)
    first = [sampler.ask() for _ in range(5)]
    assert [n for n, _ in first] == [0, 1, 2, 3, 4]
    assert sum(p["x"] for _, p in first) / 5 < 0.35

    restored = make_sampler("optuna:tpe", space, Goal.MAXIMIZE, 0)
    restored.restore([*history[:4], TrialRecord(4, {"x": 0.5}, TrialStatus.RUNNING)])
    assert restored.ask()[0] == 5
    restored.tell(4, "complete", 1.0)  # the pending trial can still be told


def test_fixed_parameters_are_returned_and_must_name_the_space():
    sampler = make_sampler("optuna:tpe", NOTEBOOK_SPACE, Goal.MINIMIZE, 0)
    fixed = {
        "--batch-size": 50,
        "--first-layer-neurons": 10,
        "--second-layer-neurons": 500,
        "--learning-rate": 0.01,
    }
    assert sampler.ask(fixed) == (0, fixed)
    with pytest.raises(InvalidArgument, match="do not match"):
        sampler.ask({"--batch-size": 50})


def test_an_optuna_sampler_without_its_packages_says_what_to_install(monkeypatch):
    monkeypatch.setattr(samplers_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependency, match="pip install torch scipy"):
        make_sampler("optuna:gp", NOTEBOOK_SPACE, Goal.MAXIMIZE, 0)


def test_unknown_sampler_names_list_the_known_ones():
    with pytest.raises(InvalidArgument, match="optuna:tpe"):
        make_sampler("hyperband", NOTEBOOK_SPACE, Goal.MAXIMIZE, 0)


def test_a_grids_resumed_children_take_no_grid_point_before_or_after_a_restart():
    space = {"a": Choice((1, 2))}
    sampler = make_sampler("grid", space, Goal.MAXIMIZE, 0)
    assert sampler.ask({"a": 2}) == (0, {"a": 2})  # a resumed child: an extra trial
    assert [sampler.ask() for _ in range(2)] == [(1, {"a": 1}), (2, {"a": 2})]
    with pytest.raises(InvalidState, match="all 2"):
        sampler.ask()
    again = make_sampler("grid", space, Goal.MAXIMIZE, 0)
    again.restore(
        [
            TrialRecord(0, {"a": 2}, status=TrialStatus.COMPLETED, resumed_from="old_0"),
            TrialRecord(1, {"a": 1}, status=TrialStatus.RUNNING),
        ]
    )
    assert again.ask() == (2, {"a": 2})

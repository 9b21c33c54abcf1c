"""Search quality at equal budget: Runyard's TPE vs random sampling vs Optuna's own TPE.

The objective (``tuning_side.noisy_quadratic``) is a loss to minimise over a float
(``uniform(-1, 1)``), an integer (``quniform(1, 100, 1)``) and a log-scale learning rate
(``loguniform(ln 1e-5, ln 1)``, natural-log bounds as in v1), with Gaussian noise. Each
method gets the same budget of trials, one at a time, on ``--seeds`` seeds; the score is
the best *noise-free* loss found (lower is better), so luck in the noise does not count.

* Runyard TPE and Runyard random: ``TuningController`` with ``optuna:tpe`` / ``random``,
  children finishing at once (``tuning_side.InstantRunner``), no policy.
* Optuna TPE: ``TPESampler(seed)`` with ``suggest_float`` / ``suggest_int`` /
  ``suggest_float(log=True)`` over the same ranges, ``study.optimize``-style ask and tell:
  the same settings, to check that Runyard's wrapping loses nothing.

    python benchmarks/bench_tuning_quality.py [--trials N] [--seeds N] [--quick]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optuna
from common import print_result, row, write_result
from tuning_side import InstantRunner, noisy_quadratic

from runyard.tuning import Goal, LogUniform, QUniform, TuningController, TuningSpec, Uniform

SPACE = {"x": Uniform(-1, 1), "n": QUniform(1, 100, 1), "lr": LogUniform(math.log(1e-5), 0)}


def clean_loss(params: dict[str, Any]) -> float:
    return noisy_quadratic(params["x"], params["n"], params["lr"], _NoNoise())


class _NoNoise(random.Random):
    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return 0.0


def runyard_best(sampler: str, trials: int, seed: int) -> float:
    noise = random.Random(seed + 10_000)
    runner = InstantRunner(lambda p: [noisy_quadratic(p["x"], p["n"], p["lr"], noise)])
    spec = TuningSpec(
        space=SPACE,
        sampler=sampler,
        primary_metric_name="loss",
        goal=Goal.MINIMIZE,
        max_total_runs=trials,
        max_concurrent_runs=1,
        seed=seed,
    )
    controller = TuningController(runner, spec)
    while not controller.step():
        pass
    state = controller.state
    if len(state.trials) != trials:
        raise RuntimeError(f"Runyard ran {len(state.trials)} of {trials} trials")
    return min(clean_loss(dict(t.params)) for t in state.trials)


def optuna_best(trials: int, seed: int) -> float:
    noise = random.Random(seed + 10_000)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    for _ in range(trials):
        trial = study.ask()
        params = {
            "x": trial.suggest_float("x", -1, 1),
            "n": trial.suggest_int("n", 1, 100),
            "lr": trial.suggest_float("lr", 1e-5, 1.0, log=True),
        }
        study.tell(trial, noisy_quadratic(params["x"], params["n"], params["lr"], noise))
    return min(clean_loss(t.params) for t in study.trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="20 trials, 3 seeds.")
    args = parser.parse_args()
    trials, seeds = (20, 3) if args.quick else (args.trials, args.seeds)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    tpe, rand, theirs = [], [], []
    for seed in range(seeds):
        tpe.append(runyard_best("optuna:tpe", trials, seed))
        rand.append(runyard_best("random", trials, seed))
        theirs.append(optuna_best(trials, seed))
    wins = sum(1 for a, b in zip(tpe, rand, strict=True) if a < b)
    ties_or_better = sum(1 for a, b in zip(tpe, theirs, strict=True) if a <= b)
    identical = sum(1 for a, b in zip(tpe, theirs, strict=True) if a == b)
    rows = [
        row(
            f"Seeds where TPE beats random ({trials} trials)",
            wins,
            None,
            "",
            f"of {seeds} seeds",
            higher_is_better=True,
            target="a majority",
            met=wins > seeds / 2,
        ),
        row(
            "Median best loss, Runyard TPE vs Runyard random",
            statistics.median(tpe),
            statistics.median(rand),
            "Runyard random",
            "loss (lower is better)",
        ),
        row(
            "Median best loss, Runyard TPE vs Optuna's TPE",
            statistics.median(tpe),
            statistics.median(theirs),
            f"Optuna {optuna.__version__} TPE",
            "loss (lower is better)",
        ),
        row(
            "Seeds where Runyard's TPE is at least as good as Optuna's",
            ties_or_better,
            None,
            "",
            f"of {seeds} seeds",
            higher_is_better=True,
        ),
        row(
            "Seeds where Runyard's TPE found exactly Optuna's best point",
            identical,
            None,
            "",
            f"of {seeds} seeds",
            higher_is_better=True,
        ),
    ]
    notes = (
        "Noisy quadratic over uniform(-1, 1), quniform(1, 100, 1) and loguniform(ln 1e-5, 0); "
        f"{trials} sequential trials per method and seed; score = best noise-free loss. "
        "Runyard's TPE asks Optuna's TPESampler for the same distributions, in the same "
        "order and with the same seed as Optuna's own suggest_* loop, so identical points "
        "are expected: the comparison checks that Runyard's wrapping (latent mapping, "
        "controller, ask/tell) changes nothing."
    )
    path = write_result(
        "tuning_quality",
        "Tuning quality at equal budget (issue 9)",
        rows,
        notes,
        extra={"runyard_tpe": tpe, "runyard_random": rand, "optuna_tpe": theirs},
        smoke=args.quick,
    )
    print_result(path)


if __name__ == "__main__":
    main()

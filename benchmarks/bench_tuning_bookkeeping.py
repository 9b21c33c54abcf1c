"""The tuning controller's bookkeeping per trial, vs Optuna's own ask-and-tell loop.

Per trial: sample the parameters, record the trial, take its 20 reports of the primary
metric one poll at a time with the early-termination policy checked after each, and tell
the sampler how it ended. Children finish at once (``tuning_side.InstantRunner``), so the
time is the controller's own. Issue 9's target: at most 20 ms per trial with TPE.

Runyard: ``TuningController`` over a 4-parameter space (the notebook's three choices and a
log-uniform), ``max_concurrent_runs=1``, a Bandit policy (slack 0.1, every interval).
Optuna: the same sampler and seed on an in-memory study, ``study.ask(distributions)``,
``trial.report`` + ``trial.should_prune()`` (a ``MedianPruner``) per report, ``study.tell``:
the fair equivalent of one sequential HyperDrive trial. Optuna is Runyard's own dependency
here, so both run in this process. Medians over ``--repeat`` sweeps of ``--trials``.

    python benchmarks/bench_tuning_bookkeeping.py [--trials N] [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import optuna
from common import print_result, row, write_result
from tuning_side import InstantRunner, learning_curve

from runyard.tuning import (
    BanditPolicy,
    Choice,
    Goal,
    LogUniform,
    TrialStatus,
    TuningController,
    TuningSpec,
)
from runyard.tuning.latent import latent_space

REPORTS = 20
TARGET_MS = 20.0
SPACE = {
    "--batch-size": Choice((25, 50, 100)),
    "--first-layer-neurons": Choice((10, 50, 200, 300, 500)),
    "--second-layer-neurons": Choice((10, 50, 200, 500)),
    "--learning-rate": LogUniform(-6, -1),
}


def accuracy(params: dict[str, Any], rng: random.Random) -> float:
    return (
        0.9
        - params["--batch-size"] / 1000
        - abs(params["--learning-rate"] - 0.01)
        + rng.gauss(0, 0.01)
    )


def runyard_sweep(sampler: str, trials: int, seed: int) -> tuple[float, int]:
    """Seconds for the sweep, and how many trials ended (checked after the clock stops)."""
    rng = random.Random(seed)
    runner = InstantRunner(lambda p: learning_curve(accuracy(dict(p), rng), REPORTS))
    spec = TuningSpec(
        space=SPACE,
        sampler=sampler,
        primary_metric_name="Accuracy",
        goal=Goal.MAXIMIZE,
        max_total_runs=trials,
        max_concurrent_runs=1,
        policy=BanditPolicy(slack_factor=0.1),
        seed=seed,
    )
    start = time.perf_counter_ns()
    controller = TuningController(runner, spec)
    while not controller.step():
        pass
    elapsed = (time.perf_counter_ns() - start) / 1e9
    state = controller.state
    ended = sum(1 for t in state.trials if not t.status.active)
    reports = sum(len(t.reports) for t in state.trials if t.status is TrialStatus.COMPLETED)
    if ended != trials or reports == 0:
        raise RuntimeError(f"Runyard's sweep ended {ended}/{trials} trials, {reports} reports")
    return elapsed, ended


def optuna_sweep(sampler: str, trials: int, seed: int) -> tuple[float, int]:
    rng = random.Random(seed)
    distributions = latent_space(SPACE)
    make = optuna.samplers.TPESampler if sampler == "optuna:tpe" else optuna.samplers.RandomSampler
    start = time.perf_counter_ns()
    study = optuna.create_study(
        direction="maximize", sampler=make(seed=seed), pruner=optuna.pruners.MedianPruner()
    )
    for _ in range(trials):
        trial = study.ask(distributions)
        curve = learning_curve(accuracy(trial.params, rng), REPORTS)
        pruned = False
        for step, value in enumerate(curve, start=1):
            trial.report(value, step)
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, max(curve))
    elapsed = (time.perf_counter_ns() - start) / 1e9
    return elapsed, len(study.trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="30 trials, 2 repeats.")
    args = parser.parse_args()
    trials, repeat = (30, 2) if args.quick else (args.trials, args.repeat)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    rows, raw = [], {}
    for sampler, label in (("random", "random"), ("optuna:tpe", "TPE")):
        ours, theirs = [], []
        runyard_sweep(sampler, 10, 0)  # warm-up: imports, first study
        optuna_sweep("optuna:tpe" if sampler == "optuna:tpe" else "random", 10, 0)
        for i in range(repeat):  # interleaved, so a change in load hits both
            seconds, count = runyard_sweep(sampler, trials, seed=i)
            ours.append(seconds / count * 1000)
            seconds, count = optuna_sweep(sampler, trials, seed=i)
            theirs.append(seconds / count * 1000)
        runyard_ms, optuna_ms = statistics.median(ours), statistics.median(theirs)
        raw[label] = {"runyard_ms": ours, "optuna_ms": theirs}
        tpe = label == "TPE"
        rows.append(
            row(
                f"Bookkeeping per trial, {label} ({trials} trials, {REPORTS} reports each)",
                runyard_ms,
                optuna_ms,
                f"Optuna {optuna.__version__} ask/tell",
                "ms",
                target=f"≤ {TARGET_MS:g} ms" if tpe else "",
                met=(runyard_ms <= TARGET_MS) if tpe else None,
            )
        )
    notes = (
        "Runyard: TuningController, max_concurrent_runs=1, Bandit(slack_factor=0.1) checked "
        "after every report, children that finish at once. Optuna: the same sampler and "
        "seed, study.ask/trial.report/should_prune (MedianPruner)/study.tell in one loop. "
        "Milliseconds per trial, medians over interleaved sweeps."
    )
    path = write_result(
        "tuning_bookkeeping",
        "Tuning bookkeeping per trial (issue 9)",
        rows,
        notes,
        extra=raw,
        smoke=args.quick,
    )
    print_result(path)


if __name__ == "__main__":
    main()

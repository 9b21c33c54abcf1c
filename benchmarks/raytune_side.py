"""Ray Tune's side of the HyperDrive throughput benchmark (run in its own process).

The same search as Runyard's: a grid over ``--x`` (``--trials`` values), at most
``--concurrency`` trials at once, each trial running the same script as a subprocess with
the same interpreter as Runyard's children (``--python``), ``--steps 5`` (it logs 5
values and exits). Outside a submitted run the script's ``Run.get_context()`` is an
offline run that prints what it logs; the trial reads its ``score`` values and its own
duration (``script_seconds``) from that output and reports them to Tune. Ray is started
here (``ray.init``, not timed) with as many CPUs as the concurrency, so Tune runs exactly
that many trials at once.

    python raytune_side.py SCRIPT OUT.json [--python PY] [--trials N] [--concurrency N]
                           [--storage DIR]

Writes ``{"wall": s, "scripts": [s...], "processes": [s...], "trials": n, "ray": version}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

_LOGGED = re.compile(r"Attempted to log scalar metric (\w+):\n(\S+)")


def _trial(python: str, script: str, x: int) -> dict[str, float]:
    """Run the script once as a subprocess; what it logged, and its process's wall time."""
    started = time.time()
    done = subprocess.run(
        [python, script, "--x", str(x), "--steps", "5"],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(script),
    )
    process = time.time() - started
    logged: dict[str, list[float]] = {}
    for name, value in _LOGGED.findall(done.stdout):
        logged.setdefault(name, []).append(float(value))
    return {
        "score": max(logged["score"]),
        "script_seconds": logged["script_seconds"][-1],
        "process_seconds": process,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("out")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--storage", default=None)
    parser.add_argument("--python", default=sys.executable, help="the trials' interpreter")
    args = parser.parse_args()

    import ray
    from ray import tune

    ray.init(
        num_cpus=args.concurrency,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    script = os.path.abspath(args.script)

    def trainable(config: dict[str, int]) -> None:
        tune.report(_trial(args.python, script, config["x"]))

    tuner = tune.Tuner(
        trainable,
        param_space={"x": tune.grid_search(list(range(1, args.trials + 1)))},
        tune_config=tune.TuneConfig(
            metric="score", mode="max", max_concurrent_trials=args.concurrency
        ),
        run_config=tune.RunConfig(
            name="bench", storage_path=args.storage, verbose=0, log_to_file=False
        ),
    )
    started = time.time()
    results = tuner.fit()
    wall = time.time() - started
    frame = results.get_dataframe()
    out = {
        "wall": wall,
        "scripts": [float(v) for v in frame["script_seconds"]],
        "processes": [float(v) for v in frame["process_seconds"]],
        "trials": len(frame),
        "errors": len(results.errors),
        "best": float(results.get_best_result().metrics["score"]),
        "ray": ray.__version__,
    }
    ray.shutdown()
    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()

"""HyperDrive on local compute (issue 9): child start, trial throughput, policy latency,
side by side with Ray Tune.

(a) Child start: a child's creation (Queued, by the controller) to its script's first
    statement (which records ``time.time()``), environment cached (the submitting
    interpreter as it is), median over the children of (b).
(b) Trial throughput: ``--trials`` trials of a script that logs 5 values and exits,
    ``max_concurrent_runs=2``: the sweep's wall time (parent created -> ended) against the
    ideal, the sum of the scripts' durations / 2, with a script's duration taken two ways:
    its process's life (spawn -> exit, as its executor measures it: a new interpreter's
    start-up and exit when it is one, a fork of a warm one's when the script starts warm)
    and its own first line -> last line (what the script measures itself). Side by side,
    Ray Tune (``raytune_side.py``, its own venv with
    ``ray[tune]``) runs the same grid over the same script, each trial the script as a
    subprocess with the same interpreter, 2 at once; its wall time is ``Tuner.fit()``
    (``ray.init`` not counted).
(c) Policy latency: a Bandit policy (interval 1) against children that are clearly worse
    than a finished good one: from the condemning value being logged to the child's
    process being gone (the child's recorded end, which the executor writes after the
    script's process group is gone), median.

    .venv/bin/python benchmarks/bench_hyperdrive.py [--trials N] [--bad N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_DIR,
    QUIET_ENV,
    ensure_venv,
    isolate_runyard,
    print_result,
    row,
    summarize,
    wait_for_quiet,
    work_dir,
    write_result,
)

#: Ray Tune's side runs in a venv of its own: ``ray[tune]`` adds pyarrow and pandas, which
#: Runyard's ``ray`` extra does not need. Same Ray version as Runyard's venv.
RAY_TUNE = "ray[tune]==2.60.0"
_SCRIPT_ENDED = re.compile(rb"Script ended with exit code 0 after ([0-9.]+) s")

SCRIPT = """\
import time
T0 = time.time()
import argparse
from runyard.core import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--pause", type=float, default=0.0)
args = p.parse_args()
run = Run.get_context()
run.log("t0", T0)
steps = args.steps if args.x < 500 else 5  # the good trial of (c) ends at once
for step in range(steps):
    run.log("score", args.x * (step + 1))
    run.flush()
    time.sleep(args.pause)
run.log("script_seconds", time.time() - T0)
"""


def _sweep(ws, folder: Path, values, arguments, policy=None, concurrency=2):
    from runyard.core import Environment, Experiment, ScriptRunConfig
    from runyard.train.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

    env = Environment("bench-current")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    src = ScriptRunConfig(str(folder), "train.py", arguments=arguments, environment=env)
    hdc = HyperDriveConfig(
        run_config=src,
        hyperparameter_sampling=GridParameterSampling({"--x": choice(*values)}),
        policy=policy,
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=len(values),
        max_concurrent_runs=concurrency,
    )
    return Experiment(ws, "bench-tune").submit(hdc)


def _ray_tune(script: Path, trials: int, root: Path) -> dict:
    """Ray Tune's run of the same grid (see ``raytune_side.py``)."""
    python = ensure_venv("raytune", [RAY_TUNE])
    out = root / "raytune.json"
    env = dict(os.environ, **QUIET_ENV, RAY_DISABLE_USAGE_STATS="1")
    subprocess.run(
        [
            str(python),
            str(BENCH_DIR / "raytune_side.py"),
            str(script),
            str(out),
            "--python",
            sys.executable,
            "--trials",
            str(trials),
            "--storage",
            str(root / "raytune"),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=3600,
    )
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--bad", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="10 trials, 3 bad; no results")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=300.0)
    args = parser.parse_args()
    if args.quick:
        args.trials, args.bad = 10, 3
    root = Path(work_dir("hyperdrive"))
    isolate_runyard(root)
    from runyard.core import Workspace
    from runyard.train.hyperdrive import BanditPolicy

    folder = root / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(SCRIPT))
    ws = Workspace.create("bench", path=root / "ws")
    store = ws.resources.store

    # (a) and (b)
    loads = {"before_runyard": wait_for_quiet(args.max_load, args.max_wait)}
    hdr = _sweep(ws, folder, list(range(1, args.trials + 1)), ["--steps", "5"])
    hdr.wait_for_completion(timeout_seconds=3600)
    parent = store.get_run(hdr.id)
    wall = parent.ended_at - parent.created_at
    starts, scripts, processes = [], [], []
    warm = 0
    for child in store.list_runs(parent_run_id=hdr.id):
        warm += bool(child.details.get("script", {}).get("warm"))
        metrics = {m.name: m.value for m in store.get_metrics(child.run_id)}
        starts.append(metrics["t0"] - child.created_at)
        scripts.append(metrics["script_seconds"])
        log = ws.resources.artifacts.read_bytes(
            f"runs/{child.run_id}/files/runyard-logs/executor.txt"
        )
        processes.append(float(_SCRIPT_ENDED.findall(log)[-1]))
    ideal = sum(scripts) / 2
    ideal_process = sum(processes) / 2
    start = summarize(starts)
    loads["after_runyard"] = os.getloadavg()[0]
    loads["before_ray_tune"] = wait_for_quiet(args.max_load, args.max_wait)
    ray = _ray_tune(folder / "train.py", args.trials, root)
    loads["after_ray_tune"] = os.getloadavg()[0]
    ray_ideal = sum(ray["scripts"]) / 2
    ray_ideal_process = sum(ray["processes"]) / 2

    # (c): trial 0 is good and ends fast; every other one would log for 60 s.
    values = [1000] + [1] * args.bad
    hdr = _sweep(
        ws,
        folder,
        values,
        ["--steps", "300", "--pause", "0.2"],
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1),
    )
    hdr.wait_for_completion(timeout_seconds=600)
    state = hdr.get_study_state()
    series = {
        t.number: [m.logged_at for m in store.get_metrics(t.run_id, "score")] for t in state.trials
    }
    latencies = []
    for trial in state.trials:
        if trial.verdict is None:
            continue
        n = trial.verdict.interval
        condemned_at = max(series[trial.number][n - 1], series[0][min(n, len(series[0])) - 1])
        latencies.append(store.get_run(trial.run_id).ended_at - condemned_at)
    ws.close()
    latency = statistics.median(latencies) if latencies else float("nan")
    rows = [
        row(
            "Child start (Queued → first line), median",
            start.median,
            None,
            "",
            "s",
            target="≤ 1 s",
            met=start.median <= 1.0,
        ),
        row(
            f"{args.trials} trials of 5 logs, concurrency 2: wall",
            wall,
            ray["wall"],
            f"Ray Tune {ray['ray']}, the script as a subprocess per trial",
            "s",
            target="ahead of Ray Tune",
            met=wall < ray["wall"],
        ),
        row(
            "…ideal: sum of script processes (spawn → exit) / 2",
            ideal_process,
            None,
            "",
            "s",
        ),
        row(
            "…wall / that ideal",
            wall / ideal_process,
            ray["wall"] / ray_ideal_process,
            "Ray Tune",
            "×",
            target="≤ 1.15×",
            met=wall / ideal_process <= 1.15,
        ),
        row(
            "…ideal: sum of scripts' first → last line / 2",
            ideal,
            None,
            "",
            "s",
        ),
        row(
            "…wall / that ideal",
            wall / ideal,
            ray["wall"] / ray_ideal,
            "Ray Tune",
            "×",
            target="≤ 1.15×",
            met=wall / ideal <= 1.15,
        ),
        row(
            f"Policy latency (value logged → child gone), median of {len(latencies)}",
            latency,
            None,
            "",
            "s",
            target="≤ 1 s",
            met=latency <= 1.0,
        ),
    ]
    notes = (
        "Local compute, the submitting interpreter as the environment (no build). A "
        "sweep's children start from one fork server per sweep (imports, the store's first "
        "opening and the environment paid once; the controller wakes when a child's "
        "executor exits), and each child's script is a forked, pre-warmed copy of that "
        f"interpreter rather than a new one ({warm} of {args.trials} started warm; "
        "RUNYARD_WARM_SCRIPTS=0 turns it off): its process time is the fork's life, so the "
        "process ideal no longer holds interpreter start-ups. Inside Runyard the script's "
        "Run.get_context() is the submitted run (its 5 "
        "values go to the workspace's SQLite store, which its imports and its exit flush "
        "cost); under Ray Tune it is an offline run that prints them, so Ray's scripts are "
        "shorter: compare the wall times, and each side against its own ideal. Ray "
        "Tune's scripts are new interpreters (their start-up is in its process ideal). "
        "Ray Tune's wall is Tuner.fit() alone "
        "(ray.init before the clock); Runyard's includes starting the controller and the "
        "fork server. Ray Tune's ideals: "
        f"{ray_ideal_process:.3g} s (processes), {ray_ideal:.3g} s (first → last line). "
        "Before the fork server (2026-12-01 13:11 UTC, same machine): child "
        "start 0.498 s, 100 trials 66.5 s, 3.59× the first → last line ideal. With the "
        "fork server, before warm scripts (16:42 UTC, load 4-5): child start 0.149 s, 100 "
        "trials 61.9 s, 1.26× the process ideal (49.0 s), 1.86× the first → last line "
        "ideal (33.3 s). 1-minute "
        "load average (2 shared cores) before → after: Runyard "
        f"{loads['before_runyard']:.1f} → {loads['after_runyard']:.1f}, Ray Tune "
        f"{loads['before_ray_tune']:.1f} → {loads['after_ray_tune']:.1f}."
    )
    path = write_result(
        "hyperdrive",
        "HyperDrive on local compute",
        rows,
        notes,
        {
            "starts": starts,
            "scripts": scripts,
            "processes": processes,
            "latencies": latencies,
            "ray_tune": ray,
            "loads": loads,
            "warm": warm,
        },
        smoke=args.quick,
    )
    print_result(path)


if __name__ == "__main__":
    main()

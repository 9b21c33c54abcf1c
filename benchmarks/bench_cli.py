"""The command line's latency, in fresh processes as a user types it, vs MLflow's CLI.

(a) ``runyard --help`` vs ``mlflow --help``: what every command pays before doing anything.
(b) ``runyard run list --json --limit 0`` vs ``mlflow runs list --experiment-id ID``, each on
    its own SQLite store holding the same number of runs (one metric each), made by each
    tool's Python API.
(c) ``runyard run metrics RUN --json`` for a run with 100,000 logged values (NaN included);
    MLflow's CLI has no command that prints a metric's history.
(d) ``runyard model list --json`` with 200 model versions; MLflow's CLI has no model listing.

MLflow runs in its own venv (the one ``bench_tracking.py`` makes, same pin). Medians over
``--repeat`` fresh processes per command, interleaved; before timing, each Runyard command's
output is checked (the number of runs, values and versions), so that a fast number cannot
come from a command that did nothing. Prints a markdown table and writes
``benchmarks/results/cli.json``.

    python benchmarks/bench_cli.py [--repeat N] [--quick] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    QUIET_ENV,
    Command,
    ensure_venv,
    fresh_process_times,
    print_result,
    row,
    wait_for_quiet,
    work_dir,
    write_result,
)

MLFLOW_REQUIREMENT = "mlflow==3.17.2"  # the same pin as bench_tracking.py, so its venv is reused

MLFLOW_POPULATE = textwrap.dedent(
    """
    import logging, sys
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    import mlflow
    mlflow.set_tracking_uri(sys.argv[1])
    exp = mlflow.create_experiment("bench", artifact_location=sys.argv[2])
    for _ in range(int(sys.argv[3])):
        with mlflow.start_run(experiment_id=exp):
            mlflow.log_metric("acc", 0.5)
    print(exp)
    """
)


def _runyard() -> list[str]:
    script = Path(sys.executable).parent / "runyard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "runyard.cli"]


def _populate(folder: str, runs: int, values: int, versions: int) -> tuple[str, str]:
    """A workspace with ``runs`` runs (one of them holding ``values`` values) and
    ``versions`` model versions; returns (its config file, the big run's id)."""
    from runyard.core import Experiment, Model, Workspace

    ws = Workspace.create("bench-cli", path=os.path.join(folder, "ws"))
    config = ws.write_config(os.path.join(folder, "cfg"))
    exp = Experiment(ws, "bench")
    big = exp.start_logging()
    for i in range(values):
        big.log("loss", float("nan") if i % 1000 == 0 else 1.0 / (i + 1))
    big.complete()
    for _ in range(runs - 1):
        run = exp.start_logging()
        run.log("acc", 0.5)
        run.complete()
    model_file = os.path.join(folder, "model.bin")
    with open(model_file, "wb") as fh:
        fh.write(b"\0" * 1024)
    for i in range(versions):
        Model.register(ws, model_file, f"model-{i % 10}", tags={"i": str(i)})
    ws.close()
    return config, big.id


def _check(argv: list[str], expect: int, count: str) -> None:
    """Run a command once and check its JSON holds ``expect`` items."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    got = len(data["loss"]) if count == "values" else len(data)
    if got != expect:
        raise RuntimeError(f"{' '.join(argv)} gave {got} {count}, expected {expect}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="Small counts, 3 repeats.")
    parser.add_argument("--no-mlflow", action="store_true", help="Skip the MLflow side.")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    runs, values, versions = (50, 10_000, 20) if args.quick else (500, 100_000, 200)

    folder = work_dir("cli-")
    try:
        config, big_run = _populate(folder, runs, values, versions)
        runyard = _runyard()
        commands = {
            "runyard --help": Command([*runyard, "--help"]),
            "run list": Command([*runyard, "-w", config, "run", "list", "--json", "--limit", "0"]),
            "run metrics": Command([*runyard, "-w", config, "run", "metrics", big_run, "--json"]),
            "model list": Command([*runyard, "-w", config, "model", "list", "--json"]),
        }
        _check(commands["run list"].argv, runs, "runs")
        _check(commands["run metrics"].argv, values, "values")
        _check(commands["model list"].argv, versions, "versions")
        mlflow_version = None
        if not args.no_mlflow:
            mlflow_python = str(ensure_venv("mlflow", [MLFLOW_REQUIREMENT]))
            uri = f"sqlite:///{os.path.join(folder, 'mlflow.db')}"
            env = {**os.environ, **QUIET_ENV}
            exp_id = subprocess.run(
                [
                    mlflow_python,
                    "-c",
                    MLFLOW_POPULATE,
                    uri,
                    Path(folder, "mlart").as_uri(),
                    str(runs),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout.split()[-1]
            mlflow_version = subprocess.run(
                [mlflow_python, "-c", "import mlflow; print(mlflow.__version__)"],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout.strip()
            commands["mlflow --help"] = Command([mlflow_python, "-m", "mlflow", "--help"])
            commands["mlflow runs list"] = Command(
                [mlflow_python, "-m", "mlflow", "runs", "list", "--experiment-id", exp_id],
                env={"MLFLOW_TRACKING_URI": uri},
            )
            listed = subprocess.run(
                commands["mlflow runs list"].argv,
                capture_output=True,
                text=True,
                check=True,
                env={**env, "MLFLOW_TRACKING_URI": uri},
            ).stdout
            if listed.count("\n") < runs:
                raise RuntimeError(f"mlflow runs list printed fewer than {runs} lines")
        load = wait_for_quiet(max_load=2.0, max_wait_s=300)
        times = fresh_process_times(commands, repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def median_ms(name: str) -> float | None:
        return times[name]["wall"].median * 1000 if name in times else None

    rows = [
        row(
            "`--help` in a fresh process",
            median_ms("runyard --help") or 0.0,
            median_ms("mlflow --help"),
            "`mlflow --help`",
            "ms",
        ),
        row(
            f"List {runs} runs in a fresh process",
            median_ms("run list") or 0.0,
            median_ms("mlflow runs list"),
            "`mlflow runs list --experiment-id ID`",
            "ms",
        ),
        row(
            f"`run metrics --json`, {values:,} values",
            median_ms("run metrics") or 0.0,
            None,
            "",
            "ms",
        ),
        row(
            f"`model list --json`, {versions} versions",
            median_ms("model list") or 0.0,
            None,
            "",
            "ms",
        ),
    ]
    result = write_result(
        "cli",
        "Command line latency (fresh processes) — Runyard vs MLflow's CLI",
        rows,
        notes=(
            f"Median wall time from spawn to exit over {repeat} fresh processes per command, "
            "interleaved, each tool on its own SQLite store holding the same runs "
            f"(MLflow {mlflow_version or 'not measured'}, its own venv). Runyard lists runs as "
            "JSON (`run list --json --limit 0`), MLflow as its table (it has no JSON output). "
            "`runyard --help` imports neither SQLAlchemy nor rich; the other Runyard "
            "commands' floor is interpreter start-up plus importing SQLAlchemy. MLflow's CLI "
            f"has no commands for (c) and (d). 1-minute load average when timing started: "
            f"{load:.1f}."
        ),
        extra={name: {k: s.to_dict() for k, s in t.items()} for name, t in times.items()},
    )
    print_result(result)


if __name__ == "__main__":
    main()

"""The command line's latency, in fresh processes as a user types it.

(a) ``runyard --help`` vs ``mlflow --help`` (MLflow in its own venv, the one
    ``bench_tracking.py`` makes): what every command pays before doing anything.
(b) ``runyard run list --json --limit 0`` on an embedded workspace holding 500 runs.
(c) ``runyard run metrics RUN --json`` for a run with 100,000 logged values (NaN included).
(d) ``runyard model list --json`` with 200 model versions.

Medians over ``--repeat`` fresh processes each, interleaved. Prints a markdown table and
writes ``benchmarks/results/cli.json``.

    python benchmarks/bench_cli.py [--repeat N] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Command,
    ensure_venv,
    fresh_process_times,
    markdown_table,
    row,
    work_dir,
    write_result,
)

MLFLOW_REQUIREMENT = "mlflow==3.17.2"  # the same pin as bench_tracking.py, so its venv is reused
RUNS = 500
METRIC_VALUES = 100_000
MODEL_VERSIONS = 200


def _runyard() -> list[str]:
    script = Path(sys.executable).parent / "runyard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "runyard.cli"]


def _populate(folder: str) -> tuple[str, str]:
    """A workspace with RUNS runs, one of them with METRIC_VALUES values, and MODEL_VERSIONS
    model versions; returns (config file, the big run's id)."""
    from runyard.core import Experiment, Model, Workspace

    ws = Workspace.create("bench-cli", path=os.path.join(folder, "ws"))
    config = ws.write_config(os.path.join(folder, "cfg"))
    exp = Experiment(ws, "bench")
    big = exp.start_logging()
    for i in range(METRIC_VALUES):
        big.log("loss", float("nan") if i % 1000 == 0 else 1.0 / (i + 1))
    big.complete()
    for _ in range(RUNS - 1):
        run = exp.start_logging()
        run.log("acc", 0.5)
        run.complete()
    model_file = os.path.join(folder, "model.bin")
    with open(model_file, "wb") as fh:
        fh.write(b"\0" * 1024)
    for i in range(MODEL_VERSIONS):
        Model.register(ws, model_file, f"model-{i % 10}", tags={"i": str(i)})
    ws.close()
    return config, big.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-mlflow", action="store_true", help="Skip the MLflow side.")
    args = parser.parse_args()

    folder = work_dir("cli-")
    try:
        config, big_run = _populate(folder)
        runyard = _runyard()
        commands = {
            "runyard --help": Command([*runyard, "--help"]),
            "run list": Command([*runyard, "-w", config, "run", "list", "--json", "--limit", "0"]),
            "run metrics": Command([*runyard, "-w", config, "run", "metrics", big_run, "--json"]),
            "model list": Command([*runyard, "-w", config, "model", "list", "--json"]),
        }
        if not args.no_mlflow:
            mlflow_python = ensure_venv("mlflow", [MLFLOW_REQUIREMENT])
            commands["mlflow --help"] = Command([str(mlflow_python), "-m", "mlflow", "--help"])
        times = fresh_process_times(commands, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def median_ms(name: str) -> float:
        return times[name]["wall"].median * 1000

    mlflow_help = median_ms("mlflow --help") if "mlflow --help" in times else None
    rows = [
        row(
            "`--help` in a fresh process",
            median_ms("runyard --help"),
            mlflow_help,
            "mlflow --help",
            "ms",
        ),
        row(f"`run list --json`, {RUNS} runs", median_ms("run list"), None, "", "ms"),
        row(
            f"`run metrics --json`, {METRIC_VALUES:,} values",
            median_ms("run metrics"),
            None,
            "",
            "ms",
        ),
        row(
            f"`model list --json`, {MODEL_VERSIONS} versions",
            median_ms("model list"),
            None,
            "",
            "ms",
        ),
    ]
    result = write_result(
        "cli",
        "Command line latency (fresh processes)",
        rows,
        notes=(
            f"Median wall time over {args.repeat} fresh processes each, interleaved, from spawn "
            "to exit, on an embedded (SQLite) workspace. `runyard --help` imports neither "
            "SQLAlchemy nor rich."
        ),
        extra={name: {k: s.to_dict() for k, s in t.items()} for name, t in times.items()},
    )
    print(markdown_table(json.loads(result.read_text())))


if __name__ == "__main__":
    main()

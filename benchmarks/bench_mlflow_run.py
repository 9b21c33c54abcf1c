"""Submitting runs (issue 3): submit -> first line of the script, Runyard vs ``mlflow run``.

The script is ``bench_submit.py``'s: its first statement writes ``time.time()`` to the file
named by its first argument. Each sample is the time from just before the submit (the
command's spawn, or the Python call) to that timestamp. Sides, interleaved round by round
(one untimed warm-up round first, which also creates MLflow's database):

- ``runyard run submit -e bench --source-dir SRC first.py STAMP`` (Runyard's command line;
  without ``--pip`` the script runs in the interpreter that runs ``runyard``), vs
  ``mlflow run SRC --env-manager local -P stamp=STAMP`` (MLflow Projects; ``local`` runs the
  entry point's ``python first.py {stamp}`` in the active environment, MLflow's venv);
- ``Experiment.submit(ScriptRunConfig(...))`` with a user-managed environment (this
  interpreter), vs ``mlflow.projects.run(SRC, env_manager="local", synchronous=False)`` in a
  long-lived Python process in MLflow's venv (mlflow imported before timing, as Runyard is);
- for reference, ``Experiment.submit`` with a uv-built environment from the cache (the
  issue's "environment cached" case; MLflow's ``local`` has no environment to build).

Both tools track into a SQLite database in a fresh folder under ``benchmarks/.work``
(Runyard's embedded workspace; MLflow's ``sqlite:///.../mlflow.db``). Every run is waited
for before the next sample and checked at the end: Completed in Runyard, FINISHED in
MLflow's database.

    .venv/bin/python benchmarks/bench_mlflow_run.py [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_submit import SCRIPT, _wait_file
from common import (
    QUIET_ENV,
    ensure_venv,
    installed_version,
    print_result,
    row,
    summarize,
    wait_for_quiet,
    work_dir,
    write_result,
)

MLFLOW_PIN = "mlflow==3.17.2"  # the version bench_tracking.py compares with

MLPROJECT = """\
name: bench-first-line
entry_points:
  main:
    parameters:
      stamp: string
    command: "python first.py {stamp}"
"""

# Runs in MLflow's venv: one mlflow.projects.run per stamp path read from stdin; prints
# the time just before the call, then "done" once the run has ended. The script's own
# output comes through the same pipe (the run inherits stdout), hence the prefix.
MLFLOW_API_CHILD = """\
import json, sys, time
import mlflow
import mlflow.projects

uri = sys.argv[1]
print("@bench ready", flush=True)
for line in sys.stdin:
    stamp = line.strip()
    t0 = time.time()
    submitted = mlflow.projects.run(
        uri, parameters={"stamp": stamp}, env_manager="local",
        experiment_name="bench-api", synchronous=False,
    )
    call = time.time() - t0
    print("@bench", json.dumps({"t0": t0, "call": call}), flush=True)
    if not submitted.wait():
        raise SystemExit(f"run {submitted.run_id} failed")
    print("@bench done", flush=True)
"""


def _mlflow_env(mlflow_python: Path, folder: Path) -> dict[str, str]:
    """The environment of a user who activated MLflow's venv and tracks into SQLite."""
    env = {**os.environ, **QUIET_ENV}
    env["PATH"] = f"{mlflow_python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(mlflow_python.parent.parent)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    return env


class Sides:
    """The five ways to submit the script, each returning (first line - t0, call seconds)."""

    def __init__(self, folder: Path, mlflow_python: Path) -> None:
        from runyard.core import Environment, Experiment, Workspace

        self.folder = folder
        self.src = folder / "src"
        self.src.mkdir()
        (self.src / "first.py").write_text(SCRIPT)
        (self.src / "MLproject").write_text(MLPROJECT)
        self.stamps = folder / "stamps"
        self.stamps.mkdir()
        self.ws = Workspace.create("bench-mlflow-run", path=str(folder / "ws"))
        self.ws.write_config(path=str(folder))
        self.exp = Experiment(self.ws, "bench")
        self.here = Environment("this-interpreter")
        self.here.python.user_managed_dependencies = True
        self.built = Environment("runyard-only")  # uv-built: Runyard and its dependencies
        self.runyard_cli = Path(sys.executable).parent / "runyard"
        self.mlflow_cli = mlflow_python.parent / "mlflow"
        self.mlflow_env = _mlflow_env(mlflow_python, folder)
        self.count = 0
        # MLflow logs each run on stderr: kept in a file, quoted if the child fails.
        self.api_log = folder / "mlflow-api.stderr"
        self.api = subprocess.Popen(
            [str(mlflow_python), "-c", MLFLOW_API_CHILD, str(self.src)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.api_log.open("w"),
            text=True,
            env=self.mlflow_env,
            cwd=folder,
        )
        self._expect_line("ready")

    def _stamp(self, side: str) -> Path:
        self.count += 1
        return self.stamps / f"{side}-{self.count}"

    def _expect_line(self, wanted: str | None = None) -> str:
        """The child's next ``@bench`` line, without the prefix (other lines are the
        script's output)."""
        assert self.api.stdout is not None
        while True:
            line = self.api.stdout.readline()
            if not line:
                self._api_failed(f"ended before {wanted or 'a line'}")
            if line.startswith("@bench "):
                break
        text = line.removeprefix("@bench ").strip()
        if wanted is not None and text != wanted:
            self._api_failed(f"expected {wanted!r}, got {text!r}")
        return text

    def _api_failed(self, why: str) -> None:
        self.api.kill()
        tail = self.api_log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"mlflow.projects.run child {why}; its stderr:\n{tail}")

    def runyard_cli_submit(self) -> tuple[float, float]:
        from runyard.core import Run

        stamp = self._stamp("runyard-cli")
        argv = [str(self.runyard_cli), "--workspace", str(self.folder / "config.json")]
        argv += ["run", "submit", "-e", "bench-cli", "--source-dir", str(self.src)]
        t0 = time.time()
        proc = subprocess.run(
            [*argv, "first.py", str(stamp)], capture_output=True, text=True, cwd=self.folder
        )
        call = time.time() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"runyard run submit failed:\n{proc.stdout}\n{proc.stderr}")
        first = _wait_file(stamp) - t0
        run = Run.get(self.ws, proc.stdout.strip().splitlines()[-1])
        _completed(run.wait_for_completion(raise_on_error=False), run.id)
        return first, call

    def runyard_sdk(self, env: Any, side: str) -> tuple[float, float]:
        from runyard.core import ScriptRunConfig

        stamp = self._stamp(side)
        config = ScriptRunConfig(str(self.src), "first.py", arguments=[str(stamp)], environment=env)
        t0 = time.time()
        run = self.exp.submit(config)
        call = time.time() - t0
        first = _wait_file(stamp) - t0
        _completed(run.wait_for_completion(raise_on_error=False), run.id)
        return first, call

    def mlflow_cli_run(self) -> tuple[float, float]:
        stamp = self._stamp("mlflow-cli")
        argv = [str(self.mlflow_cli), "run", str(self.src), "--env-manager", "local"]
        argv += ["--experiment-name", "bench-cli", "-P", f"stamp={stamp}"]
        t0 = time.time()
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.mlflow_env)
        call = time.time() - t0  # mlflow run waits for a local run: spawn -> run ended
        if proc.returncode != 0:
            raise RuntimeError(f"mlflow run failed:\n{proc.stdout}\n{proc.stderr}")
        return _wait_file(stamp) - t0, call

    def mlflow_api_run(self) -> tuple[float, float]:
        assert self.api.stdin is not None
        stamp = self._stamp("mlflow-api")
        self.api.stdin.write(f"{stamp}\n")
        self.api.stdin.flush()
        timing = json.loads(self._expect_line())
        first = _wait_file(stamp) - timing["t0"]
        self._expect_line("done")
        return first, float(timing["call"])

    def close(self) -> None:
        if self.api.stdin is not None:
            self.api.stdin.close()
        try:
            self.api.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.api.kill()
        self.ws.close()


def _completed(details: dict[str, Any], run_id: str) -> None:
    if details["status"] != "Completed":
        raise RuntimeError(f"run {run_id} ended {details['status']}: {details.get('error')}")


def _count_finished_mlflow_runs(db: Path) -> dict[str, int]:
    """MLflow runs by status, read from its database directly (not through MLflow)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall()
    return {str(status): int(n) for status, n in rows}


def measure(sides: Sides, repeat: int) -> dict[str, dict[str, list[float]]]:
    """``repeat`` timed rounds (after one warm-up round), each side once per round."""
    order = {
        "runyard_cli": sides.runyard_cli_submit,
        "mlflow_cli": sides.mlflow_cli_run,
        "runyard_sdk": lambda: sides.runyard_sdk(sides.here, "runyard-sdk"),
        "mlflow_api": sides.mlflow_api_run,
        "runyard_sdk_uv": lambda: sides.runyard_sdk(sides.built, "runyard-uv"),
    }
    raw: dict[str, dict[str, list[float]]] = {
        name: {"first_line": [], "call": [], "load": []} for name in order
    }
    for i in range(repeat + 1):
        for name, submit in order.items():
            load = os.getloadavg()[0]
            first, call = submit()
            if i == 0:
                continue  # warm-up: MLflow's database created, Runyard's snapshot stored
            raw[name]["first_line"].append(first)
            raw[name]["call"].append(call)
            raw[name]["load"].append(load)
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="2 rounds; results to .work/")
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--max-wait", type=float, default=180.0)
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.max_wait = 2, 10.0

    mlflow_python = ensure_venv("mlflow", [MLFLOW_PIN])
    mlflow_version = installed_version(mlflow_python, "mlflow")
    folder = Path(work_dir("mlflow-run-"))
    # As bench_submit.py: bytecode cached (as in an installed package), outside the tree.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    os.environ["RUNYARD_SCRATCH"] = str(folder / "scratch")
    os.environ["RUNYARD_ENV_CACHE"] = str(folder / "envs")
    extra: dict[str, Any] = {"mlflow_version": mlflow_version, "repeat": args.repeat}
    try:
        sides = Sides(folder, mlflow_python)
        try:
            sides.runyard_sdk(sides.built, "build")  # builds the uv environment once
            extra["load_before"] = wait_for_quiet(args.max_load, args.max_wait)
            extra["loadavg_before"] = os.getloadavg()
            raw = measure(sides, args.repeat)
            extra["loadavg_after"] = os.getloadavg()
            from runyard.core import Experiment

            extra["runyard_completed"] = {
                name: sum(r.status == "Completed" for r in Experiment(sides.ws, name).get_runs())
                for name in ("bench", "bench-cli")
            }
        finally:
            sides.close()
        extra["mlflow_runs_by_status"] = _count_finished_mlflow_runs(folder / "mlflow.db")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    extra["samples"] = raw
    expected_mlflow = 2 * (args.repeat + 1)
    if extra["mlflow_runs_by_status"].get("FINISHED") != expected_mlflow:
        raise SystemExit(
            f"expected {expected_mlflow} FINISHED MLflow runs, found "
            f"{extra['mlflow_runs_by_status']}: a sample may not have run"
        )

    def med(name: str, key: str = "first_line") -> float:
        return summarize(raw[name][key]).median

    mlflow_cli = f"`mlflow run SRC --env-manager local` (MLflow {mlflow_version})"
    rows = [
        row(
            "Submit → first line of the script, command line (the script runs in the "
            "tool's own interpreter)",
            med("runyard_cli"),
            med("mlflow_cli"),
            mlflow_cli,
            "s",
            target="≤ 1 s",
            met=med("runyard_cli") <= 1.0,
        ),
        row(
            "Submit → first line, Python API (`Experiment.submit`, user-managed environment)",
            med("runyard_sdk"),
            med("mlflow_api"),
            '`mlflow.projects.run(SRC, env_manager="local", synchronous=False)`',
            "s",
            target="≤ 1 s",
            met=med("runyard_sdk") <= 1.0,
        ),
        row(
            "Submit → first line, Python API, uv-built environment from the cache",
            med("runyard_sdk_uv"),
            None,
            "",
            "s",
            target="≤ 1 s",
            met=med("runyard_sdk_uv") <= 1.0,
        ),
        row(
            "The submitting call itself, Python API (returns with the run queued / started)",
            med("runyard_sdk", "call"),
            med("mlflow_api", "call"),
            "`mlflow.projects.run(..., synchronous=False)`",
            "s",
        ),
    ]
    la_before, la_after = extra["loadavg_before"], extra["loadavg_after"]
    notes = (
        f"Medians over {args.repeat} rounds; each round runs every side once, in the order "
        "Runyard CLI, `mlflow run`, Runyard API, MLflow API, Runyard API (uv), after one "
        "untimed warm-up round. *First line* is the script's first statement writing "
        "`time.time()` to a file (the same `first.py` as `bench_submit.py`), minus the time "
        "just before the command was spawned or the Python call made. Both tools track into "
        "SQLite in a fresh folder: Runyard's embedded workspace, MLflow's "
        "`MLFLOW_TRACKING_URI=sqlite:///…/mlflow.db`. `mlflow run` gets MLflow's venv on "
        "`PATH` (as if activated), so its `python first.py {stamp}` entry point runs there; "
        "`runyard run submit` without `--pip` runs the script in Runyard's own interpreter. "
        "The command-line rows include each tool's import at start-up; the API rows do "
        "not (both imported before timing, MLflow in a long-lived process in its venv). "
        "Every run was waited for before the next sample and checked afterwards "
        f"({extra['runyard_completed']} Completed in Runyard, "
        f"{extra['mlflow_runs_by_status']} in MLflow's database, warm-ups included). "
        f"Load average (1, 5, 15 min) {', '.join(f'{x:.1f}' for x in la_before)} before, "
        f"{', '.join(f'{x:.1f}' for x in la_after)} after (2 shared cores); the 1-minute "
        "load before each sample is in `raw.samples.*.load`."
    )
    result = write_result(
        "mlflow_run",
        "Submitting runs (issue 3) — Runyard vs `mlflow run`",
        rows,
        notes=notes,
        extra=extra,
        smoke=args.quick,
    )
    print_result(result)


if __name__ == "__main__":
    main()

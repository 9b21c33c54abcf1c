"""Issue 2's performance targets, measured side by side with MLflow on this machine.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/bench_tracking.py            # full run (about 6 minutes)
    .venv/bin/python benchmarks/bench_tracking.py --quick    # smoke run (under a minute)

It creates ``benchmarks/.venvs/mlflow`` (MLflow pinned below) on first use, runs Runyard's
side (``runyard_side.py``) and MLflow's side (``mlflow_side.py``) one after the other, each
in its own process and fresh folder under ``benchmarks/.work``, times fresh-process imports
interleaved, writes ``benchmarks/results/tracking.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    BENCH_DIR,
    REPO_ROOT,
    Command,
    ensure_venv,
    fresh_process_times,
    markdown_table,
    row,
    run_json_child,
    wait_for_quiet,
    work_dir,
    write_result,
)

MLFLOW_REQUIREMENT = "mlflow==3.17.2"

FULL = {
    "loop_values": 100_000,
    "loop_repeats": 5,
    "batch": 1000,
    "throughput_values": 10_000,
    "throughput_repeats": 7,
    "sync_repeats": 1,
    "async_repeats": 2,
    "run_repeats": 30,
    "model_bytes": 1_000_000,
    "register_repeats": 15,
    "import_runs": 15,
}
QUICK = {
    **FULL,
    "loop_repeats": 1,
    "throughput_values": 1000,
    "throughput_repeats": 2,
    "async_repeats": 1,
    "run_repeats": 5,
    "register_repeats": 3,
    "import_runs": 3,
}

TIMED_PREFIX = "import time; t = time.perf_counter(); c = time.process_time(); "
TIMED_SUFFIX = "; print(time.perf_counter() - t, time.process_time() - c)"
RUNYARD_IMPORT = (
    TIMED_PREFIX
    + "import runyard; from runyard.core import Run; run = Run.get_context()"
    + TIMED_SUFFIX
)
MLFLOW_IMPORT = TIMED_PREFIX + "import mlflow" + TIMED_SUFFIX
BARE_PYTHON = TIMED_PREFIX + "pass" + TIMED_SUFFIX


def measure_imports(
    mlflow_python: Path, workspace_json: str, runs: int, scratch: str
) -> dict[str, Any]:
    """Fresh-process import timings, as the environment is and with bytecode compiled."""
    no_bytecode = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": None}
    compiled_dir = os.path.join(scratch, "pycache")
    submitted = {"RUNYARD_RUN_ID": "bench_1_deadbeef", "RUNYARD_WORKSPACE": workspace_json}

    def compiled(side: str) -> dict[str, str | None]:
        # A private cache folder, filled by the untimed warm-up process: src/ stays
        # free of __pycache__, so the "as is" numbers stay what every checkout sees.
        return {
            "PYTHONDONTWRITEBYTECODE": None,
            "PYTHONPYCACHEPREFIX": os.path.join(compiled_dir, side),
        }

    commands = {
        "python": Command([sys.executable, "-c", BARE_PYTHON], no_bytecode),
        "runyard": Command([sys.executable, "-c", RUNYARD_IMPORT], no_bytecode),
        "runyard_submitted": Command(
            [sys.executable, "-c", RUNYARD_IMPORT], {**no_bytecode, **submitted}
        ),
        "mlflow": Command([str(mlflow_python), "-c", MLFLOW_IMPORT], no_bytecode),
        "runyard_compiled": Command([sys.executable, "-c", RUNYARD_IMPORT], compiled("runyard")),
        "mlflow_compiled": Command([str(mlflow_python), "-c", MLFLOW_IMPORT], compiled("mlflow")),
    }
    timings = fresh_process_times(commands, runs, warmup=1)
    return {name: {k: v.to_dict() for k, v in t.items()} for name, t in timings.items()}


def build_rows(
    ry: dict[str, Any], ml: dict[str, Any], imp: dict[str, Any], s: dict[str, Any]
) -> list[dict[str, Any]]:
    """Turn both sides' raw numbers into result rows (targets from issue 2)."""
    us, ms = 1e6, 1e3
    n = s["throughput_values"]
    rows = []
    per_call = ry["loop_per_call"]["median"] * us
    rows.append(
        row(
            f"`run.log` per call, tight loop of {s['loop_values']:,} (median of "
            f"{s['batch']}-call batches)",
            per_call,
            ml["async_per_call"]["median"] * us,
            "MLflow `log_metric(synchronous=False)`",
            "µs",
            target="≤ 5 µs",
            met=per_call <= 5,
        )
    )
    durable = ry["loop_durable_after"]["median"]
    rows.append(
        row(
            f"{s['loop_values']:,} values durable after the loop ends (`run.flush()`)",
            durable,
            None,
            "MLflow",
            "s",
            target="≤ 1 s",
            met=durable <= 1,
        )
    )
    rows.append(
        row(
            f"{n:,} values durable after the loop ends",
            ry["throughput_durable_after"]["median"],
            ml["async_durable_after"]["median"],
            "MLflow async, `flush_async_logging()`",
            "s",
        )
    )
    ry_rate = n / ry["throughput_10k_total"]["median"]
    sync_rate = n / ml["sync_10k_total"]["median"]
    async_rate = n / ml["async_10k_total"]["median"]
    rows.append(
        row(
            f"Throughput, {n:,} values one call at a time until durable",
            ry_rate,
            sync_rate,
            "MLflow `log_metric` (sync)",
            "values/s",
            higher_is_better=True,
            target="≥ 50×",
            met=ry_rate / sync_rate >= 50,
        )
    )
    rows.append(
        row(
            f"Throughput, {n:,} values one call at a time until durable",
            ry_rate,
            async_rate,
            "MLflow `log_metric(synchronous=False)`",
            "values/s",
            higher_is_better=True,
            target="ahead (> 1×)",
            met=ry_rate > async_rate,
        )
    )
    create = ry["run_create_complete"]["median"] * ms
    rows.append(
        row(
            "Create + complete a run (`start_logging()` + `complete()`)",
            create,
            ml["run_create_complete"]["median"] * ms,
            "MLflow `start_run()` + `end_run()`",
            "ms",
            target="≤ 5 ms",
            met=create <= 5,
        )
    )
    register = ry["register_model"]["median"] * ms
    mlflow_register = ml["register_model"]["median"] * ms
    rows.append(
        row(
            "Register a model version of a 1 MB file (`Model.register`)",
            register,
            mlflow_register,
            "MLflow `log_artifact` + `create_model_version`",
            "ms",
            target="≤ 20 ms",
            met=register <= 20,
        )
    )
    rows.append(
        row(
            "Register from a run's file (`upload_file` + `run.register_model`)",
            ry["register_from_run"]["median"] * ms,
            mlflow_register,
            "MLflow `log_artifact` + `create_model_version`",
            "ms",
        )
    )
    for key, label in (
        ("", "as installed, PYTHONDONTWRITEBYTECODE=1"),
        ("_compiled", "bytecode compiled once"),
    ):
        inner = imp["runyard" + key]["inner"]["median"] * ms
        rows.append(
            row(
                f"`import runyard` + `Run.get_context()`, fresh process, in-process time ({label})",
                inner,
                imp["mlflow" + key]["inner"]["median"] * ms,
                "`import mlflow`",
                "ms",
                target="≤ 150 ms",
                met=inner <= 150,
            )
        )
    cpu = imp["runyard"]["inner_cpu"]["median"] * ms
    rows.append(
        row(
            "Same, CPU time of the imports (as installed; machine load does not inflate it)",
            cpu,
            imp["mlflow"]["inner_cpu"]["median"] * ms,
            "`import mlflow`",
            "ms",
            target="≤ 150 ms",
            met=cpu <= 150,
        )
    )
    wall = imp["runyard"]["wall"]["median"] * ms
    rows.append(
        row(
            "Same, whole process from spawn to exit (as installed; bare `python` takes "
            f"{imp['python']['wall']['median'] * ms:.0f} ms)",
            wall,
            imp["mlflow"]["wall"]["median"] * ms,
            "`python -c 'import mlflow'`",
            "ms",
            target="≤ 150 ms",
            met=wall <= 150,
        )
    )
    rows.append(
        row(
            "`import runyard` + `Run.get_context()` inside a submitted run (in-process time, "
            "as installed)",
            imp["runyard_submitted"]["inner"]["median"] * ms,
            None,
            "",
            "ms",
        )
    )
    return rows


NOTES = """\
- Both sides run on this machine in the same invocation, one after the other, each in its own
  process and its own fresh folder under `benchmarks/.work` (same disk as the repository).
  MLflow ({mlflow}) is installed by the script into `benchmarks/.venvs/mlflow` and uses the
  SQLite backend (`sqlite:///…/mlflow.db`) with a local artifact folder; Runyard uses an
  embedded workspace (SQLite in WAL mode + artifact folder). Medians are reported; p95, min,
  max and every sample are in `benchmarks/results/tracking.json`.
- "Durable" means readable through a fresh connection: Runyard's side reopens the workspace
  (`Workspace.get`) and counts the values with `get_metrics`; MLflow's side counts rows of
  its `metrics` table with a new `sqlite3` connection. Every run asserts the full count.
- Both throughput loops make the same call: a name, a float value and a step. The tight-loop
  row uses the SDK v1 idiom `run.log(name, value)`. Runyard's per-call time includes the
  background writer running concurrently (it shares the GIL with the loop).
- MLflow's asynchronous logging is too slow on SQLite for a {loop:,}-value loop in a
  benchmark of reasonable length (see the {n:,}-value row: its flush alone takes that long),
  so the {loop:,}-value durability row has no MLflow number.
- Each tool keeps its own SQLite settings: MLflow's store uses SQLite's defaults (rollback
  journal, `synchronous=FULL`: a sync to disk at every commit, i.e. at every synchronous
  `log_metric`); Runyard's uses WAL with `synchronous=NORMAL` (a commit survives a crash of
  the process; only a power cut can lose the last commits).
- Model registration: MLflow's registry records a source URI and does not copy files, while
  `Model.register` copies the file into the workspace. The fair equivalent is therefore
  `mlflow.log_artifact` (copies the 1 MB file into the run's artifacts) plus
  `MlflowClient.create_model_version(name, source=<that artifact folder>, run_id=...)`
  (a version with lineage to the run), timed inside an already-started run.
  `mlflow.register_model("runs:/…")` refuses a folder without an MLmodel file in MLflow 3.
- Fresh-process rows: "in-process time" is what the child measures around its imports
  (interpreter start-up excluded); the whole-process row includes it. Processes run
  interleaved (Runyard, MLflow, …) so that load changes hit both sides alike; each command
  runs once untimed first. "As installed": PYTHONDONTWRITEBYTECODE=1 as on the dev machines
  and CI, so Runyard's editable sources are compiled on every import
  ({runyard_pyc}), while MLflow's venv was byte-compiled at install (as `pip install`
  does). "Bytecode compiled once": both sides get a private PYTHONPYCACHEPREFIX filled by
  the untimed first run.
- Machine load average (1 min) at the start of Runyard's side / MLflow's side / the imports /
  the end: {loads}. Other work on a 2-core machine inflates wall-clock times (both sides').
  Runyard's CPU time for the same medians, which load does not inflate: `run.log`
  {cpu_log:.2f} µs per call; flush of {loop:,} values {cpu_flush:.2f} s; create + complete
  {cpu_run:.2f} ms; `Model.register` {cpu_register:.2f} ms; import + `get_context`
  {cpu_import:.0f} ms as installed, {cpu_import_compiled:.0f} ms compiled (MLflow's import:
  {cpu_mlflow_import:.0f} ms).
"""


def make_notes(
    settings: dict[str, Any],
    ry: dict[str, Any],
    ml: dict[str, Any],
    imp: dict[str, Any],
    loads: list[float],
) -> str:
    """The notes under the table, filled in from the run's raw numbers."""
    has_pyc = any((REPO_ROOT / "src" / "runyard").rglob("__pycache__"))
    ms = 1e3
    return NOTES.format(
        mlflow=ml["mlflow_version"],
        loop=settings["loop_values"],
        n=settings["throughput_values"],
        runyard_pyc="but src/ held __pycache__ folders during this run, which were used"
        if has_pyc
        else "src/ holds no __pycache__",
        loads=" / ".join(f"{x:.1f}" for x in loads),
        cpu_log=ry["cpu_loop_per_call"]["median"] * 1e6,
        cpu_flush=ry["cpu_loop_durable_after"]["median"],
        cpu_run=ry["cpu_run_create_complete"]["median"] * ms,
        cpu_register=ry["cpu_register_model"]["median"] * ms,
        cpu_import=imp["runyard"]["inner_cpu"]["median"] * ms,
        cpu_import_compiled=imp["runyard_compiled"]["inner_cpu"]["median"] * ms,
        cpu_mlflow_import=imp["mlflow"]["inner_cpu"]["median"] * ms,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument(
        "--max-load",
        type=float,
        default=2.0,
        help="wait for the 1-minute load average to drop to this (default 2)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=300,
        help="seconds to wait for that before measuring anyway (default 300)",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    mlflow_python = ensure_venv("mlflow", [MLFLOW_REQUIREMENT])
    loads = [wait_for_quiet(args.max_load, args.max_wait)]
    scratch = work_dir("tracking-")
    print("[bench] Runyard side ...", file=sys.stderr)
    ry = run_json_child(
        [
            sys.executable,
            str(BENCH_DIR / "runyard_side.py"),
            os.path.join(scratch, "runyard"),
            json.dumps(settings),
        ]
    )
    loads.append(os.getloadavg()[0])
    print("[bench] MLflow side (a few minutes) ...", file=sys.stderr)
    ml = run_json_child(
        [
            str(mlflow_python),
            str(BENCH_DIR / "mlflow_side.py"),
            os.path.join(scratch, "mlflow"),
            json.dumps(settings),
        ]
    )
    loads.append(os.getloadavg()[0])
    print("[bench] fresh-process imports ...", file=sys.stderr)
    imp = measure_imports(mlflow_python, ry["workspace_config"], settings["import_runs"], scratch)
    loads.append(os.getloadavg()[0])
    # Kept when a step fails (for a look); a full run leaves about 100 MB otherwise.
    shutil.rmtree(scratch, ignore_errors=True)

    rows = build_rows(ry, ml, imp, settings)
    notes = make_notes(settings, ry, ml, imp, loads)
    title = "Run history and model registry (issue 2) — Runyard vs MLflow"
    if args.quick:
        title += " (quick run: small counts)"
    path = write_result(
        "tracking",
        title,
        rows,
        notes,
        extra={
            "settings": settings,
            "load_averages": loads,
            "runyard": ry,
            "mlflow": ml,
            "imports": imp,
        },
        smoke=args.quick,
    )
    print(markdown_table({"rows": rows}))
    print(f"\nwritten to {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

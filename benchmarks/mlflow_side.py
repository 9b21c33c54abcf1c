"""MLflow's side of bench_tracking.py; runs inside benchmarks/.venvs/mlflow.

Usage: ``python mlflow_side.py WORK_DIR SETTINGS_JSON``. Prints one JSON object (seconds).
MLflow is used as its documentation shows: the fluent API on a ``sqlite:///`` tracking URI
with a local artifact folder, metrics logged one ``mlflow.log_metric`` call at a time.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import summarize


def main() -> None:
    work = Path(sys.argv[1]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = json.loads(sys.argv[2])
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    import mlflow
    from mlflow import MlflowClient

    db = work / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    exp_id = mlflow.create_experiment("bench", artifact_location=(work / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    client = MlflowClient()
    out: dict[str, Any] = {"mlflow_version": mlflow.__version__}

    def count(run_id: str) -> int:
        # A fresh connection: what another process would see.
        with sqlite3.connect(db) as con:
            return int(
                con.execute(
                    "SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", (run_id,)
                ).fetchone()[0]
            )

    # Warm-up: the first run pays for migrations checks and lazy imports.
    with mlflow.start_run():
        mlflow.log_metric("warm", 1.0, step=0)
        mlflow.log_metric("warm", 1.0, step=1, synchronous=False)
        mlflow.flush_async_logging()

    # 2a. Sync throughput: n values, one log_metric call each (durable when it returns).
    n = settings["throughput_values"]
    sync_totals, sync_per_call = [], []
    for _ in range(settings["sync_repeats"]):
        with mlflow.start_run() as run:
            start = time.perf_counter_ns()
            for i in range(n):
                mlflow.log_metric("loss", float(i), step=i)
            total = (time.perf_counter_ns() - start) / 1e9
        assert count(run.info.run_id) == n, "sync values missing"
        sync_totals.append(total)
        sync_per_call.append(total / n)
    out["sync_10k_total"] = summarize(sync_totals).to_dict()
    out["sync_per_call"] = summarize(sync_per_call).to_dict()

    # 2b + 1. Async: n values in timed batches of `batch` calls (the per-call cost of the
    #    loop), then flush_async_logging() until durable (the wait after the loop ends).
    batch = settings["batch"]
    async_totals, async_per_call, async_durable = [], [], []
    for _ in range(settings["async_repeats"]):
        with mlflow.start_run() as run:
            start = time.perf_counter_ns()
            i = 0
            for _b in range(n // batch):
                b_start = time.perf_counter_ns()
                for _ in range(batch):
                    mlflow.log_metric("loss", float(i), step=i, synchronous=False)
                    i += 1
                async_per_call.append((time.perf_counter_ns() - b_start) / batch / 1e9)
            loop_end = time.perf_counter_ns()
            mlflow.flush_async_logging()
            end = time.perf_counter_ns()
        got = count(run.info.run_id)
        assert got == n, f"async: {got} of {n} values durable after flush"
        async_totals.append((end - start) / 1e9)
        async_durable.append((end - loop_end) / 1e9)
    out["async_10k_total"] = summarize(async_totals).to_dict()
    out["async_per_call"] = summarize(async_per_call).to_dict()
    out["async_durable_after"] = summarize(async_durable).to_dict()

    # 3. Create + complete a run.
    samples = []
    for _ in range(settings["run_repeats"] + 2):
        start = time.perf_counter_ns()
        mlflow.start_run()
        mlflow.end_run()
        samples.append((time.perf_counter_ns() - start) / 1e9)
    out["run_create_complete"] = summarize(samples[2:]).to_dict()

    # 4. Register a version of a 1 MB file. MLflow's registry stores a source URI, not a
    #    copy, so the fair equivalent of Runyard's Model.register (which copies the file
    #    into the workspace) is: copy it into the run's artifacts, then create the version
    #    from that location with lineage to the run. The run itself is made untimed.
    model_file = work / "model.bin"
    model_file.write_bytes(os.urandom(settings["model_bytes"]))
    client.create_registered_model("bench-model")
    samples = []
    for _ in range(settings["register_repeats"] + 2):
        with mlflow.start_run() as run:
            start = time.perf_counter_ns()
            mlflow.log_artifact(str(model_file), artifact_path="model")
            version = client.create_model_version(
                "bench-model", source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
            )
            samples.append((time.perf_counter_ns() - start) / 1e9)
    assert int(version.version) == settings["register_repeats"] + 2
    out["register_model"] = summarize(samples[2:]).to_dict()

    print(json.dumps(out))


if __name__ == "__main__":
    main()

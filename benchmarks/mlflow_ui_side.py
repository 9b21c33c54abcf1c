"""MLflow's side of bench_ui.py: build (or reuse) an MLflow SQLite database holding the
same experiment as bench_ui.py's runs page, for ``mlflow server`` to serve to the same
Chromium. Runs inside benchmarks/.venvs/mlflow.

Usage: ``python mlflow_ui_side.py DB_PATH RUNS``. Run ``i`` of ``RUNS`` is named
``big_<i>``, FAILED when ``i % 7 == 0`` (else FINISHED), has tag ``group = g<i % 10>``,
param ``lr = 0.001 * (1 + i % 50)`` and metrics ``loss = sin(i) + 2`` and
``accuracy = (i * 7919 % 1000) / 1000`` at step 0, exactly as bench_ui.py logs them in
Runyard. The schema comes from MLflow's own migrations; rows go in as bulk SQL (the
``metrics`` and ``latest_metrics`` rows ``log_batch`` writes). Prints the experiment id.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import sys
import time
from pathlib import Path

T0_MS = 1_760_000_000_000


def build(path: Path, runs: int) -> str:
    """The experiment id of ``big`` in the database at ``path`` (built when missing)."""
    if not path.exists():
        from mlflow import MlflowClient

        building = path.with_suffix(".building.db")
        for leftover in path.parent.glob(building.name + "*"):
            leftover.unlink()
        client = MlflowClient(tracking_uri=f"sqlite:///{building}")
        experiment_id = int(client.create_experiment("big", artifact_location="file:///tmp/none"))
        del client
        con = sqlite3.connect(building, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.execute("BEGIN")
            uuids = [(i, f"{i:032x}") for i in range(runs)]
            con.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench', ?,"
                " ?, ?, '', 'active', 'file:///tmp/none', ?)",
                (
                    (
                        uuid,
                        f"big_{i:06d}",
                        "FINISHED" if i % 7 else "FAILED",
                        T0_MS + i,
                        T0_MS + i + 1000,
                        experiment_id,
                    )
                    for i, uuid in uuids
                ),
            )
            con.executemany(
                "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                (
                    (name, value, uuid)
                    for i, uuid in uuids
                    for name, value in [("group", f"g{i % 10}"), ("mlflow.runName", f"big_{i:06d}")]
                ),
            )
            con.executemany(
                "INSERT INTO params (key, value, run_uuid) VALUES ('lr', ?, ?)",
                ((str(0.001 * (1 + i % 50)), uuid) for i, uuid in uuids),
            )
            for table in ("metrics", "latest_metrics"):
                con.executemany(
                    f"INSERT INTO {table} (key, value, timestamp, run_uuid, step, is_nan)"
                    " VALUES (?, ?, ?, ?, 0, 0)",
                    (
                        (name, value, T0_MS + i, uuid)
                        for i, uuid in uuids
                        for name, value in (
                            ("loss", math.sin(i) + 2.0),
                            ("accuracy", (i * 7919 % 1000) / 1000),
                        )
                    ),
                )
            con.execute("COMMIT")
            con.execute("ANALYZE")
        finally:
            con.close()
        building.rename(path)
    con = sqlite3.connect(path)
    try:
        query = "SELECT experiment_id FROM experiments WHERE name = 'big'"
        (found,) = con.execute(query).fetchone()
    finally:
        con.close()
    return str(found)


if __name__ == "__main__":
    logging.getLogger("alembic").setLevel(logging.ERROR)
    started = time.perf_counter()
    experiment = build(Path(sys.argv[1]).resolve(), int(sys.argv[2]))
    print(f"[mlflow_ui_side] ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(experiment)

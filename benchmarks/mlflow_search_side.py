"""MLflow's side of bench_search.py; runs inside benchmarks/.venvs/mlflow.

Usage: ``python mlflow_search_side.py WORK_DIR SETTINGS_JSON``. Builds (or reuses)
``WORK_DIR/mlflow-<runs>x<points>.db`` with the data set of ``search_data.py``: the schema
from MLflow's own migrations, then the runs, tags, metric values and ``latest_metrics``
(what ``log_batch`` keeps) as bulk SQL, and times MLflow's store calls behind the same
two screens. Prints one JSON object (seconds).
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

from common import time_repeated
from search_data import METRICS, T0, Shape, tags_of, value_sql


def build(path: Path, shape: Shape) -> dict[str, float]:
    """Create the MLflow database at ``path`` (nothing when it exists)."""
    if path.exists():
        return {}
    from mlflow import MlflowClient

    building = path.with_suffix(".building.db")
    for leftover in path.parent.glob(building.name + "*"):
        leftover.unlink()
    client = MlflowClient(tracking_uri=f"sqlite:///{building}")
    experiment_id = int(client.create_experiment("bench", artifact_location="file:///tmp/none"))
    del client
    timings: dict[str, float] = {}
    con = sqlite3.connect(building, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -1000000")
        start = time.perf_counter()
        con.execute("BEGIN")
        con.execute("CREATE TEMP TABLE bench_runs (i INTEGER PRIMARY KEY, run_uuid TEXT)")
        uuids = [(i, f"{i:032x}") for i in range(shape.runs)]
        con.executemany("INSERT INTO bench_runs VALUES (?, ?)", uuids)
        con.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
            " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
            " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED',"
            " ?, ?, '', 'active', 'file:///tmp/none', ?)",
            (
                (
                    uuid,
                    f"run {i}",
                    int((T0 + i) * 1000),
                    int((T0 + i + 60 + i % 600) * 1000),
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
                for name, value in [*tags_of(i).items(), ("mlflow.runName", f"run {i}")]
            ),
        )
        timings["runs_s"] = time.perf_counter() - start
        start = time.perf_counter()
        # Secondary indexes built after the load; rows go in primary-key order.
        con.execute("DROP INDEX index_metrics_run_uuid")
        con.execute("DROP INDEX index_metrics_run_uuid_key_step")
        for name in sorted(METRICS):
            steps = shape.steps(name)
            value = value_sql(name, "r.i", "st.step")
            con.execute(
                f"""WITH RECURSIVE steps(step) AS (
                        SELECT 0 UNION ALL SELECT step + 1 FROM steps WHERE step < {steps - 1})
                    INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)
                    SELECT '{name}', {value}, CAST(({T0} + st.step) * 1000 AS INTEGER),
                           r.run_uuid, st.step, 0
                    FROM steps st, bench_runs r ORDER BY st.step, r.run_uuid"""
            )
            con.execute(
                f"""INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)
                    SELECT '{name}', {value_sql(name, "r.i", str(steps - 1))},
                           CAST(({T0} + {steps - 1}) * 1000 AS INTEGER), {steps - 1}, 0,
                           r.run_uuid
                    FROM bench_runs r"""
            )
            print(f"[mlflow_search_side] {shape.label}: {name}", file=sys.stderr, flush=True)
        con.execute("CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid)")
        con.execute("CREATE INDEX index_metrics_run_uuid_key_step ON metrics (run_uuid, key, step)")
        con.execute("COMMIT")
        timings["values_s"] = time.perf_counter() - start
        con.execute("ANALYZE")
    finally:
        con.close()
    building.rename(path)
    return timings


def main() -> None:
    work = Path(sys.argv[1]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = json.loads(sys.argv[2])
    shape = Shape(settings["runs"], settings["points"])
    repeats = settings["repeats"]
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    path = work / f"mlflow-{shape.label}.db"
    out: dict[str, Any] = {"build": build(path, shape)}

    import mlflow
    from mlflow import MlflowClient

    out["mlflow_version"] = mlflow.__version__
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    store = client._tracking_client.store
    experiment_id = client.get_experiment_by_name("bench").experiment_id

    def page(filter_string: str, order: str, token: str | None = None) -> Any:
        return client.search_runs(
            [experiment_id],
            filter_string=filter_string,
            order_by=[order],
            max_results=100,
            page_token=token,
        )

    found = page("tags.group = 'g3'", "metrics.loss ASC")
    assert len(found) == 100 and {r.data.tags["group"] for r in found} == {"g3"}
    out["page_losses"] = [r.data.metrics["loss"] for r in found]
    out["page_numbers"] = [int(r.info.run_id, 16) for r in found]
    timed = {
        "page_tag_metric": lambda: page("tags.group = 'g3'", "metrics.loss ASC"),
        "page_tag_metric_desc": lambda: page("tags.group = 'g3'", "metrics.loss DESC"),
        "page_rare_tag": lambda: page("tags.rare = 'yes'", "metrics.loss ASC"),
        "page_next": lambda: page("tags.group = 'g3'", "metrics.loss ASC", found.token),
    }
    run_ids = [r.info.run_id for r in found]
    bulk = store.get_metric_history_bulk_interval(run_ids, "loss", 320, None, None)
    out["chart_points"] = len(bulk)
    history = [client.get_metric_history(run_id, "loss") for run_id in run_ids]
    out["history_points"] = sum(len(h) for h in history)
    timed["chart_bulk_interval"] = lambda: store.get_metric_history_bulk_interval(
        run_ids, "loss", 320, None, None
    )
    timed["chart_history"] = lambda: [client.get_metric_history(r, "loss") for r in run_ids]
    for name, call in timed.items():
        out[name] = time_repeated(call, repeats, warmup=1).to_dict()
        print(f"[mlflow_search_side] {name}: {out[name]['median']:.3f} s", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""MLflow's client side of bench_server.py; runs inside benchmarks/.venvs/mlflow against a
running ``mlflow server``.

Usage: ``python mlflow_server_side.py TRACKING_URL SETTINGS_JSON``. Prints one JSON object
(seconds). Uses ``MlflowClient`` (one keep-alive HTTP session, as the fluent API does) for
the small requests and ``log_batch`` for ingest, and the fluent ``start_run``/``end_run``
for a run's create + complete, as MLflow's documentation shows them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import summarize


def percentiles(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        **summarize(samples).to_dict(),
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def timed(fn: Any, repeats: int, warmup: int) -> dict[str, Any]:
    for i in range(warmup):
        fn(-1 - i)
    samples = []
    for i in range(repeats):
        start = time.perf_counter_ns()
        fn(i)
        samples.append((time.perf_counter_ns() - start) / 1e9)
    return percentiles(samples)


def main() -> None:
    url = sys.argv[1]
    settings: dict[str, Any] = json.loads(sys.argv[2])
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    exp_id = client.create_experiment(f"bench-{time.time_ns()}")
    run_id = client.create_run(exp_id).info.run_id
    out: dict[str, Any] = {"mlflow_version": mlflow.__version__}
    now = int(time.time() * 1000)

    out["get_run"] = timed(lambda i: client.get_run(run_id), settings["small"], 100)

    def batch_of_10(i: int) -> None:
        client.log_batch(
            run_id, metrics=[Metric("m", float(j), now, i * 10 + j) for j in range(10)]
        )

    out["log_batch_10"] = timed(batch_of_10, settings["small"], 100)
    mlflow.set_experiment(experiment_id=exp_id)

    def create_complete(i: int) -> None:
        mlflow.start_run()
        mlflow.end_run()

    out["run_create_complete"] = timed(create_complete, settings["runs"], 5)

    # Ingest: n values in log_batch calls of 1000 (MLflow's most per call).
    n = settings["ingest_values"]
    ingest_run = client.create_run(exp_id).info.run_id
    totals = []
    for repeat in range(settings["ingest_repeats"]):
        name = f"loss{repeat}"
        start = time.perf_counter_ns()
        for first in range(0, n, 1000):
            client.log_batch(
                ingest_run,
                metrics=[Metric(name, float(k), now, k) for k in range(first, first + 1000)],
            )
        totals.append((time.perf_counter_ns() - start) / 1e9)
        stored = len(client.get_metric_history(ingest_run, name))
        if stored != n:
            raise SystemExit(f"MLflow stored {stored} of {n} values")
    out["ingest_total"] = summarize(totals).to_dict()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

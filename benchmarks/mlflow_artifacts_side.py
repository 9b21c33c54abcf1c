"""MLflow's side of bench_server_artifacts.py; runs inside benchmarks/.venvs/mlflow against
a running ``mlflow server`` that proxies artifacts (``--serve-artifacts``).

Usage: ``python mlflow_artifacts_side.py TRACKING_URL FILE DOWNLOAD_DIR TAG``. Uploads FILE
once with ``MlflowClient.log_artifact`` (the run's artifact URI is ``mlflow-artifacts:/``,
so the bytes go through the server) and downloads it once with
``mlflow.artifacts.download_artifacts``, as MLflow's documentation shows them. Prints one
JSON object: the seconds each took and the downloaded file's sha256.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(8 * 1024 * 1024), b""):
            digest.update(piece)
    return digest.hexdigest()


def main() -> None:
    url, path, download_dir, tag = sys.argv[1:5]
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("bench-artifacts")
    exp_id = experiment.experiment_id if experiment else client.create_experiment("bench-artifacts")
    run = client.create_run(exp_id)
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:"), run.info.artifact_uri
    # Warm the connection and the server's artifact route with a tiny file.
    small = os.path.join(download_dir, f"warm-{tag}.txt")
    with open(small, "w") as fh:
        fh.write("warm")
    client.log_artifact(run_id, small, artifact_path="warm")

    start = time.perf_counter_ns()
    client.log_artifact(run_id, path, artifact_path="big")
    upload_s = (time.perf_counter_ns() - start) / 1e9

    target = os.path.join(download_dir, f"mlflow-{tag}")
    start = time.perf_counter_ns()
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=f"big/{os.path.basename(path)}", dst_path=target
    )
    download_s = (time.perf_counter_ns() - start) / 1e9
    out = {
        "mlflow_version": mlflow.__version__,
        "upload_s": upload_s,
        "download_s": download_s,
        "downloaded_sha256": sha256(local),
        "downloaded_bytes": os.path.getsize(local),
    }
    os.unlink(local)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

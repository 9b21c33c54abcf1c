"""A workspace with something to look at: experiments, runs with parameters, tags,
metric series, a table, an image, logs and files, a tuning parent with children and a
registered model. Written through the real stores."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from runyard.artifacts.layout import DRIVER_LOG, run_file_key
from runyard.core.workspace import Workspace
from runyard.entities import MetricKind, MetricRecord, RunStatus

#: A 1x1 PNG, for the image metric.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def make_sample_workspace(folder: Path, *, runs: int = 12) -> dict[str, str]:
    """Create the workspace ``team`` in ``folder``; answers the ids tests look for."""
    ws = Workspace.create("team", path=folder, exist_ok=True)
    resources = ws._resources
    store, artifacts = resources.store, resources.artifacts
    store.create_experiment("mnist")
    store.create_experiment("empty-experiment")
    now = time.time()
    ids = {}
    for i in range(runs):
        run_id = f"mnist_{i + 1:03d}"
        lr = [0.1, 0.01, 0.001][i % 3]
        batch = [16, 32, 64, 128][i % 4]
        store.create_run(
            "mnist",
            run_id=run_id,
            status=RunStatus.RUNNING,
            run_type="submitted",
            target="local",
            tags={"team": "vision" if i % 2 else "speech"},
            details={
                "runDefinition": {
                    "script": "train.py",
                    "arguments": ["--lr", str(lr), "--batch-size", str(batch)],
                }
            },
        )
        records = [
            MetricRecord(
                run_id, "loss", 1.0 / (step + 1) + i * 0.01, MetricKind.SCALAR, step, now + step
            )
            for step in range(50)
        ]
        records += [
            MetricRecord(run_id, "accuracy", 0.5 + 0.04 * i, MetricKind.SCALAR, 0, now),
            MetricRecord(run_id, "curve", {"x": 1.0, "y": 0.25 * i}, MetricKind.ROW, None, now),
        ]
        store.log_metrics(records)
        artifacts.put_bytes(f"epoch 1 of run {i}\n".encode(), run_file_key(run_id, DRIVER_LOG))
        store.set_run_status(run_id, RunStatus.COMPLETED if i % 5 else RunStatus.FAILED)
        ids[f"run{i + 1}"] = run_id
    first = ids["run1"]
    artifacts.put_bytes(PNG, run_file_key(first, "images/sample.png"))
    artifacts.put_bytes(b'{"classes": 10}', run_file_key(first, "outputs/config.json"))
    store.log_metrics(
        [
            MetricRecord(first, "sample", "images/sample.png", MetricKind.IMAGE, None, now),
            MetricRecord(
                first, "confusion", {"label": [0, 1], "count": [7, 3]}, MetricKind.TABLE, None, now
            ),
        ]
    )
    artifacts.put_bytes(b"weights", "models/digits/1/model.bin")
    store.create_model_version(
        "digits",
        artifact_path_template="models/digits/{version}",
        run_id=first,
        experiment_name="mnist",
        tags={"stage": "test"},
    )
    ws.close()
    return ids


def loss(run_index: int, step: int) -> float:
    """The sample loss curve: falling, each run's shifted up by 0.01."""
    return 1.0 / (step + 1) + run_index * 0.01

"""The data of an in-memory tracking store, guarded by one lock.

Documents (details, errors, options, specs, non-scalar metric values) are kept as the JSON
text the SQL adapter would store, so what comes back is what SQL gives back (a tuple
becomes a list, NaN survives) and a caller can never change stored data through an object
it passed in or got back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from runyard.entities import (
    ComputeTargetRecord,
    DatastoreRecord,
    EnvironmentRecord,
    MetricKind,
    ModelRecord,
    RunRecord,
    StatusChange,
)
from runyard.entities.dataset import DatasetRecord


@dataclass
class StoredRun:
    """A run: its record (details and error stored as JSON text instead) and row key."""

    key: int
    record: RunRecord
    details: str
    error: str | None = None
    history: list[StatusChange] = field(default_factory=list)


@dataclass
class StoredMetric:
    """One logged value: a float for scalars (NaN kept), JSON text for other kinds."""

    seq: int
    name: str
    kind: MetricKind
    step: int | None
    logged_at: float
    value: Any


@dataclass
class StoredModel:
    """A model version; ``pending`` until its files are complete."""

    key: int
    record: ModelRecord
    pending: bool = False


@dataclass
class StoredExperiment:
    experiment_id: int
    name: str
    created_at: float
    run_count: int = 0


@dataclass
class MemoryState:
    """Everything one in-memory store holds. Every read and write holds ``lock``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    experiments: dict[str, StoredExperiment] = field(default_factory=dict)
    runs: dict[str, StoredRun] = field(default_factory=dict)
    metrics: dict[str, list[StoredMetric]] = field(default_factory=dict)
    # Ids of the metric batches stored (``log_metrics(batch_id=...)``): a retry is skipped.
    metric_batches: set[str] = field(default_factory=set)
    # Metric summaries for run search: run id -> name -> ``run_search.Aggregate``.
    summaries: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    models: dict[tuple[str, int], StoredModel] = field(default_factory=dict)
    # Model, environment and dataset version counters: never go back, as the SQL counters.
    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    datastores: dict[str, tuple[DatastoreRecord, str]] = field(default_factory=dict)
    compute_targets: dict[str, tuple[ComputeTargetRecord, str]] = field(default_factory=dict)
    environments: dict[tuple[str, int], tuple[EnvironmentRecord, str]] = field(default_factory=dict)
    # Web services by name, as column values (documents as JSON text).
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (name, version) -> (record, definition JSON, tags JSON)
    datasets: dict[tuple[str, int], tuple[DatasetRecord, str, str]] = field(default_factory=dict)
    # Row keys (creation order, as SQL's autoincrement ids) and the metric sequence.
    last_key: int = 0
    last_seq: int = 0

    def next_key(self) -> int:
        self.last_key += 1
        return self.last_key

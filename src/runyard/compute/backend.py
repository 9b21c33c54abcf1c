"""The ComputeBackend port: where a submitted run's executor runs.

A run's life is carried by the executor (``python -m runyard.execute RUN_ID``, with the
workspace config as JSON in ``RUNYARD_WORKSPACE``), the same program on every backend. A
backend only *places* executors:

- ``launch`` starts (or queues) the executor of a run that is recorded as Queued and
  returns at once; the executor must outlive the submitting process.
- ``cancel`` stops a run's executor and the whole process tree under it. The executor also
  watches for ``CancelRequested`` in the store, so a backend that cannot reach the process
  still cancels it within a heartbeat.
- ``status`` describes the target: nodes, busy/idle, queued runs.

Contract tests: ``tests/integration/test_compute_backends.py`` runs the same scenarios on
every backend.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceRequest:
    """What one run asks of a node."""

    cpus: float = 1.0
    gpus: int = 0
    memory_gb: float | None = None
    node_count: int = 1


@dataclass
class TargetStatus:
    """A compute target's state, for ``ComputeTarget.get_status()``."""

    state: str  # Succeeded | Creating | Failed | Deleting
    nodes_busy: int = 0
    nodes_idle: int = 0
    queued_runs: int = 0
    running_runs: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class ComputeBackend(abc.ABC):
    """Places run executors on a kind of compute (local processes, a Ray cluster)."""

    @abc.abstractmethod
    def launch(self, run_id: str, workspace_json: str, resources: ResourceRequest) -> None:
        """Start or queue the executor of ``run_id``; return at once."""

    @abc.abstractmethod
    def cancel(self, run_id: str) -> None:
        """Stop the run's executor and its process tree (best effort; idempotent)."""

    @abc.abstractmethod
    def status(self) -> TargetStatus:
        """The target's current state."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release clients and connections (never stops runs)."""

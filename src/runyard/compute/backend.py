"""The ComputeBackend port: where a submitted run's executor runs.

A run's life is carried by the executor (``python -m runyard.node RUN_ID``, with the
workspace config as JSON in ``RUNYARD_WORKSPACE``), the same program on every backend. A
backend provisions its target and *places* executors:

- ``provision`` brings the target's compute up when the target is created (a Ray head, a
  check that an attached cluster answers) and returns the record to save; ``deprovision``
  stops what provisioning started when the target is deleted.
- ``launch`` starts (or queues) the executor of a run that is recorded as Queued, from the
  run's definition, and returns at once; the executor must outlive the submitting process.
  A backend never reads back from the store what it was just given.
- ``cancel`` stops a run's executor and the whole process tree under it. The executor also
  watches for ``CancelRequested`` in the store, so a backend that cannot reach the process
  still cancels it within a heartbeat.
- ``status`` describes the target: nodes, busy/idle, queued runs.

A backend is built from ``(resources, record)``: the workspace's stores and settings
(:class:`runyard.resources.WorkspaceResources`) and the target's record. Contract tests:
``tests/integration/test_compute_backends.py`` runs the same scenarios on every backend.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runyard.entities.definition import ResourceRequest

if TYPE_CHECKING:
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.entities.definition import RunDefinition
    from runyard.resources import WorkspaceResources

__all__ = ["ComputeBackend", "ResourceRequest", "TargetStatus"]


@dataclass
class TargetStatus:
    """A compute target's state, for ``ComputeTarget.get_status()``."""

    state: str  # Succeeded | Creating | Failed | Deleting
    nodes_busy: int = 0
    nodes_idle: int = 0
    queued_runs: int = 0
    running_runs: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def serialize(self) -> dict[str, Any]:
        """The status as JSON-safe data (SDK v1's ``serialize()``)."""
        return {
            "state": self.state,
            "nodesBusy": self.nodes_busy,
            "nodesIdle": self.nodes_idle,
            "queuedRuns": self.queued_runs,
            "runningRuns": self.running_runs,
            "details": dict(self.details),
        }


class ComputeBackend(abc.ABC):
    """Provisions a kind of compute and places run executors on it (local processes, a
    Ray cluster)."""

    def __init__(self, resources: WorkspaceResources, record: ComputeTargetRecord) -> None:
        self._resources = resources
        self._record = record

    @property
    def address(self) -> str | None:
        """The target's address (a cluster's job API), where it has one."""
        return None

    def dashboard(self) -> tuple[str, str | None] | None:
        """Where web services can be deployed on the target: its cluster dashboard's URL
        (Ray Serve's REST API) and the token it wants (None: none); None when the target
        has no cluster. Starts the target's head when it has stopped."""
        return None

    def nodes_share_this_machine(self) -> bool:
        """Whether every node of the target runs on this machine, and so reads its folders
        (a web service's files are then read in place, not shipped)."""
        return True

    def provision(self) -> ComputeTargetRecord:
        """Bring the target's compute up; the record to save (default: nothing to do)."""
        return self._record

    def deprovision(self) -> None:  # noqa: B027 - optional
        """Stop what :meth:`provision` started and the target's runs (default: nothing)."""

    @abc.abstractmethod
    def launch(self, run_id: str, definition: RunDefinition) -> None:
        """Start or queue the executor of ``run_id``; return at once."""

    @abc.abstractmethod
    def cancel(self, run_id: str) -> None:
        """Stop the run's executor and its process tree (best effort; idempotent)."""

    @abc.abstractmethod
    def status(self) -> TargetStatus:
        """The target's current state."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release clients and connections (never stops runs)."""

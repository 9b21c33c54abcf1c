"""The TrackingStore port: what every run-history backend provides.

Contract (checked by ``tests/contract/test_tracking_store.py`` on every adapter):

- Names are validated by the caller (``runyard.entities.validation``); the store checks
  existence and state and raises ``NotFound``, ``AlreadyExists`` or ``InvalidState``.
- ``create_experiment`` is get-or-create and safe when several processes race.
- ``create_run`` allocates the run ``number`` (1, 2, ... per experiment) atomically.
- ``set_run_status`` applies ``runyard.entities.run.can_transition`` inside the same
  transaction that reads the current status (compare-and-set), and raises
  ``InvalidState`` naming both statuses when the move is not allowed.
- ``add_properties`` refuses to change a property that is set (same value is fine).
- ``log_metrics`` writes a batch in one transaction; values come back exactly,
  NaN and +-inf included, in the order they were logged.
- ``create_model_version`` allocates versions 1, 2, ... per name with no gaps or
  duplicates, even when many processes register the same name at once.
- Every method is safe to call from several threads; ``close()`` releases connections.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities import (
    ComputeTargetRecord,
    DatastoreRecord,
    EnvironmentRecord,
    ExperimentRecord,
    MetricRecord,
    ModelRecord,
    RunRecord,
    RunStatus,
)


class TrackingStore(abc.ABC):
    """Run history, model registry and workspace catalogue (datastores, targets,
    environments) of one workspace."""

    # -- experiments -------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, name: str) -> ExperimentRecord:
        """Get the experiment called ``name``, creating it if it does not exist."""

    @abc.abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_experiments(self) -> list[ExperimentRecord]:
        """All experiments, oldest first."""

    # -- runs --------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_name: str,
        *,
        run_id: str,
        status: RunStatus,
        display_name: str | None = None,
        parent_run_id: str | None = None,
        run_type: str = "interactive",
        target: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Create a run in an existing experiment with the next run number.

        ``display_name`` defaults to the run id. Raises NotFound (experiment or parent),
        AlreadyExists (run id taken).
        """

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_runs(
        self,
        *,
        experiment_name: str | None = None,
        parent_run_id: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        tags: dict[str, str | None] | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs matching every given filter, newest first.

        ``tags`` maps a name to a required value, or to None for "has this tag".
        """

    @abc.abstractmethod
    def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: dict[str, Any] | None = None,
        expected: Iterable[RunStatus] | None = None,
    ) -> RunRecord:
        """Move a run to ``status`` (compare-and-set, see the module docstring).

        ``expected``, when given, also requires the current status to be one of them.
        Sets ``started_at`` on entering Running and ``ended_at`` on a terminal status.
        """

    @abc.abstractmethod
    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        details: dict[str, Any] | None = None,
        heartbeat_at: float | None = None,
    ) -> RunRecord:
        """Change the display name, merge ``details`` into the run's details (top-level
        keys replaced), record a heartbeat."""

    @abc.abstractmethod
    def set_tags(self, run_id: str, tags: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def remove_tags(self, run_id: str, names: Iterable[str]) -> None:
        """Remove tags; names that are not set are ignored."""

    @abc.abstractmethod
    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Raises InvalidState when a property is set already to another value."""

    # -- metrics -----------------------------------------------------------------
    @abc.abstractmethod
    def log_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Write a batch of metrics (possibly of several runs) in one transaction."""

    @abc.abstractmethod
    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """The run's metric records in logging order; one name or all of them."""

    # -- model registry ----------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        *,
        artifact_path_template: str,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        run_id: str | None = None,
        experiment_name: str | None = None,
    ) -> ModelRecord:
        """Register the next version of ``name``.

        ``artifact_path_template`` may contain ``{version}``, filled in with the version
        allocated (so files can be put where the record says).
        """

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        """The given version, or the latest one. Raises NotFound."""

    @abc.abstractmethod
    def list_models(
        self,
        *,
        name: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str | None] | None = None,
        run_id: str | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        """Model versions matching every filter, newest first; ``latest`` keeps only the
        newest version of each name."""

    @abc.abstractmethod
    def update_model(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        add_tags: dict[str, str] | None = None,
        remove_tags: Iterable[str] | None = None,
        add_properties: dict[str, str] | None = None,
    ) -> ModelRecord:
        """Change a model version's description and tags, add properties (a set property
        cannot change: InvalidState)."""

    @abc.abstractmethod
    def delete_model(self, name: str, version: int) -> None:
        """Raises NotFound. Versions are never reused after a delete."""

    # -- workspace catalogue -----------------------------------------------------
    @abc.abstractmethod
    def save_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        """Raises AlreadyExists unless ``overwrite``. Setting ``is_default`` clears it on
        the others."""

    @abc.abstractmethod
    def get_datastore(self, name: str | None = None) -> DatastoreRecord:
        """The named datastore, or the default one when ``name`` is None."""

    @abc.abstractmethod
    def list_datastores(self) -> list[DatastoreRecord]: ...

    @abc.abstractmethod
    def save_compute_target(
        self, record: ComputeTargetRecord, *, overwrite: bool = False
    ) -> None: ...

    @abc.abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetRecord: ...

    @abc.abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetRecord]: ...

    @abc.abstractmethod
    def delete_compute_target(self, name: str) -> None: ...

    @abc.abstractmethod
    def create_environment_version(self, name: str, spec: dict[str, Any]) -> EnvironmentRecord:
        """Register ``spec`` as the next version of ``name``; when it equals the latest
        version's spec, that version is returned unchanged."""

    @abc.abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord: ...

    @abc.abstractmethod
    def list_environments(self) -> list[EnvironmentRecord]:
        """The latest version of each environment."""

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional for adapters without resources
        """Release connections."""

"""The RunStore port: runs, their statuses, details, tags and properties."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities import RunPage, RunRecord, RunStatus, StatusChange


class RunStore(abc.ABC):
    """Runs of one workspace.

    - ``create_run`` allocates the run ``number`` (1, 2, ... per experiment) atomically.
    - ``set_run_status`` applies ``runyard.entities.run.can_transition`` inside the same
      transaction that reads the current status (compare-and-set), and raises
      ``InvalidState`` naming both statuses when the move is not allowed.
    - ``add_properties`` refuses to change a property that is set (same value is fine).
    """

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
        target: str | None = None,
    ) -> list[RunRecord]:
        """Runs matching every given filter, newest first (in creation order).

        ``tags`` maps a name to a required value, or to None for "has this tag";
        ``target`` keeps the runs of one compute target. Filters are applied by the
        backend (in SQL on the SQL adapter), not after reading every run.
        """

    @abc.abstractmethod
    def list_runs_page(
        self,
        *,
        experiment_name: str | None = None,
        parent_run_id: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        tags: dict[str, str | None] | None = None,
        target: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunPage:
        """One page of ``list_runs``: at most ``max_results`` runs, newest first.

        Pass the page's ``next_page_token`` (None on the last page) with the same filters
        to get the runs that follow. A page continues after the last run of the previous
        one, so runs created meanwhile never shift a listing (they appear on a new first
        page) and no run is returned twice.

        Raises:
            InvalidArgument: ``max_results`` outside 1..1000; a garbled or forged
                ``page_token``, or one given out for other filters.
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
        """Move a run to ``status`` (compare-and-set, see the class docstring).

        ``expected``, when given, also requires the current status to be one of them.
        Sets ``started_at`` on entering Running and ``ended_at`` on a terminal status.
        """

    @abc.abstractmethod
    def get_status_history(self, run_id: str) -> list[StatusChange]:
        """Every status the run has had, oldest first, with the time it moved there: the
        status it was created with, then one entry per ``set_run_status`` (the phase
        timeline: Queued, Preparing, Starting, Running, Finalizing, Completed...).

        Runs created before the store kept a history have one entry: their status then.
        Raises NotFound.
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

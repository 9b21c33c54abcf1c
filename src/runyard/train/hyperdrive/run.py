"""``HyperDriveRun``: a tuning run and its children, with SDK v1's methods.

``exp.submit(hdc)`` returns one; ``HyperDriveRun(experiment, run_id)`` rehydrates one from
the store. Its children are ordinary runs ``<run id>_<n>``; their hyperparameters are the
parent's tags named after them (v1's form).
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from runyard.artifacts.layout import HYPERDRIVE_LOG
from runyard.core.run import Run
from runyard.entities.run import RunStatus
from runyard.errors import InvalidArgument, InvalidState, RunFailed, RunTimeout

if TYPE_CHECKING:
    from runyard.core.experiment import Experiment
    from runyard.entities.run import RunRecord
    from runyard.sweep.ranking import ChildSummary
    from runyard.train.hyperdrive.runconfig import HyperDriveConfig
    from runyard.tuning.study import StudyState

POLL_SECONDS = 0.25
#: How long :meth:`HyperDriveRun.cancel` waits for the controller to end the run before
#: it ends the run's children and the run itself.
CANCEL_WAIT_SECONDS = 10.0


class HyperDriveRun(Run):
    """A HyperDrive run (``RUN_TYPE = 'hyperdrive'``).

    Args:
        experiment: the experiment the run belongs to.
        run_id: the run's id.
        hyperdrive_config: the config it was submitted with, when known.

    Raises:
        NotFound: no such run.
        InvalidArgument: the run is not a HyperDrive run.
    """

    RUN_TYPE = "hyperdrive"
    _config: HyperDriveConfig | None = None

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        hyperdrive_config: HyperDriveConfig | None = None,
    ) -> None:
        super().__init__(experiment, run_id)
        if self._rec().run_type != self.RUN_TYPE:
            raise InvalidArgument(
                f"Run {run_id} is a {self._rec().run_type!r} run, not a HyperDrive run; "
                "open it with Run.get(ws, run_id)."
            )
        self._config = hyperdrive_config

    @property
    def hyperdrive_config(self) -> HyperDriveConfig | None:
        """The config this run was submitted with (None when rehydrated from an id: the
        sweep's settings are then in :attr:`tuning_spec` and the v1 tags)."""
        return self._config

    @property
    def tuning_spec(self) -> Any:
        """The sweep as the tuning engine sees it (a :class:`runyard.tuning.TuningSpec`)."""
        return self.get_study_state().spec

    def get_study_state(self) -> StudyState:
        """The study's saved state: every trial with its values, status and reports."""
        from runyard.sweep.ranking import study_of

        return study_of(self._refresh())

    # -- children and results -------------------------------------------------------------
    def get_hyperparameters(self) -> dict[str, str]:
        """``{child run id: JSON string of its values}``."""
        from runyard.sweep.ranking import hyperparameters_of

        return hyperparameters_of(self._refresh())

    def _ranked(self, **options: Any) -> list[ChildSummary]:
        from runyard.sweep.ranking import ranked_children

        return ranked_children(self.workspace.resources, self._refresh(), **options)

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False, discard_no_metric: bool = False
    ) -> list[dict[str, Any]]:
        """The children, best first by their best primary-metric value: a list of
        ``{"run_id", "hyperparameters", "best_primary_metric", "status"}``.

        Args:
            top: at most this many (0: all).
            reverse: worst first (among the children that logged the metric).
            discard_no_metric: leave out children that never logged it (else they come
                last).
        """
        ranked = self._ranked(top=top, reverse=reverse, discard_no_metric=discard_no_metric)
        return [summary.to_dict() for summary in ranked]

    def get_best_run_by_primary_metric(
        self,
        include_failed: bool = True,
        include_canceled: bool = True,
        include_resume_from_runs: bool = True,
    ) -> Run | None:
        """The child with the best primary-metric value (a list reduced to its best), or
        None when no child logged it.

        Args:
            include_failed: consider Failed children.
            include_canceled: consider Canceled children (stopped by the policy, too).
            include_resume_from_runs: also the children of the ``resume_from`` runs.
        """
        statuses = tuple(
            s.value
            for s in RunStatus
            if (include_failed or s is not RunStatus.FAILED)
            and (include_canceled or s is not RunStatus.CANCELED)
        )
        candidates = self._ranked(discard_no_metric=True, statuses=statuses, top=1)
        if include_resume_from_runs:
            candidates += self._resumed_best(statuses)
        if not candidates:
            return None
        goal = self.tuning_spec.goal
        best = candidates[0]
        for other in candidates[1:]:
            assert other.best_primary_metric is not None and best.best_primary_metric is not None
            if goal.better(other.best_primary_metric, best.best_primary_metric):
                best = other
        return Run.get(self.workspace, best.run_id)

    def _resumed_best(self, statuses: tuple[str, ...]) -> list[ChildSummary]:
        from runyard.sweep.ranking import ranked_children

        store = self.workspace.resources.store
        found = []
        for parent_id in filter(None, self._refresh().properties.get("resume_from", "").split(",")):
            found += ranked_children(
                self.workspace.resources,
                store.get_run(parent_id),
                discard_no_metric=True,
                statuses=statuses,
                top=1,
            )
        return found

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, **_: Any
    ) -> dict[str, Any]:
        """``{child run id: its metrics}`` for every child (v1's HyperDriveRun form)."""
        return {
            child.id: child.get_metrics(name=name, recursive=recursive)
            for child in self.get_children()
        }

    # -- life -------------------------------------------------------------------------------
    def resume(self) -> bool:
        """Start a new controller when this run's controller is gone (killed, machine
        restarted); it carries on from the saved state. Returns whether one was started."""
        from runyard.sweep.launch import resume_if_gone

        return resume_if_gone(self.workspace.resources, self.id)

    def cancel(self) -> bool:  # type: ignore[override]  # v1 returns True here
        """Cancel the run and every child; returns True (v1).

        The controller cancels the children and ends the run Canceled; when it is gone or
        does not within a few seconds, this ends them itself.
        """
        store = self.workspace.resources.store
        record = self._refresh()
        if record.is_terminal:
            return True
        if record.status is not RunStatus.CANCEL_REQUESTED:
            try:
                store.set_run_status(self.id, RunStatus.CANCEL_REQUESTED, expected=[record.status])
            except InvalidState:
                if self._refresh().is_terminal:
                    return True
        from runyard.sweep.launch import controller_gone

        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while time.monotonic() < deadline:
            record = self._refresh()
            if record.is_terminal or controller_gone(self.workspace.resources, record):
                break
            time.sleep(POLL_SECONDS)
        self._cancel_children()
        if not self._refresh().is_terminal:
            with contextlib.suppress(InvalidState):
                store.set_run_status(
                    self.id,
                    RunStatus.CANCELED,
                    error={"code": "Canceled", "message": "The HyperDrive run was canceled."},
                    expected=[RunStatus.CANCEL_REQUESTED],
                )
        return True

    def _cancel_children(self) -> None:
        for child in self.get_children():
            if child._rec().status not in (
                RunStatus.COMPLETED,
                RunStatus.FAILED,
                RunStatus.CANCELED,
            ):
                child.cancel()

    def fail(self, *args: Any, **kwargs: Any) -> None:
        """Not supported for a HyperDrive run (as in v1): cancel it instead."""
        raise InvalidState("A HyperDrive run cannot be marked Failed; cancel it with hdr.cancel().")

    def get_diagnostics(self, *args: Any, **kwargs: Any) -> None:
        """Not supported for a HyperDrive run (as in v1)."""
        raise InvalidState(
            "A HyperDrive run has no diagnostics; read its tuning log with "
            f"hdr.get_file_names() / download_file({HYPERDRIVE_LOG!r})."
        )

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout_seconds: float | None = None,
        *,
        out: IO[str] | None = None,
    ) -> dict[str, Any]:
        """Wait until the sweep ends; with ``show_output``, print the tuning log as it grows
        (which child started with which values, which was stopped and why, the best so
        far). A controller found dead is started again, and carries on.

        Raises:
            RunFailed: the controller failed and ``raise_on_error``.
            RunTimeout: still going after ``timeout_seconds`` (the sweep goes on).
        """
        from runyard.core.run_monitor import LogFollower
        from runyard.sweep.launch import controller_gone, resume_if_gone

        stream = out or sys.stdout
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        follower = LogFollower(self, HYPERDRIVE_LOG)
        resources = self.workspace.resources

        def say(text: str) -> None:
            if show_output and text:
                stream.write(text)
                stream.flush()

        say(f"RunId: {self.id}\nStreaming {HYPERDRIVE_LOG}\n{'=' * (10 + len(HYPERDRIVE_LOG))}\n\n")
        while True:
            record = self._refresh()
            say(follower.read_new())
            if record.is_terminal:
                break
            # The record in hand first: a restart (rare) reads it again to claim one.
            if controller_gone(resources, record) and resume_if_gone(resources, self.id):
                say(f"The tuning controller of {self.id} was gone; started it again.\n")
            if deadline is not None and time.monotonic() > deadline:
                raise RunTimeout(
                    f"HyperDrive run {self.id} is still {record.status.value} after "
                    f"{timeout_seconds} s; it goes on. Wait again, or cancel it with "
                    "hdr.cancel()."
                )
            time.sleep(POLL_SECONDS)
        time.sleep(0.05)
        say(follower.read_new())
        say(self._summary(record))
        if record.status is RunStatus.FAILED and raise_on_error:
            message = (record.error or {}).get("message") or "no reason recorded"
            raise RunFailed(
                f"HyperDrive run {self.id} failed: {message}", run_id=self.id, error=record.error
            )
        return self.get_details()

    def _summary(self, record: RunRecord) -> str:
        lines = ["", "Execution Summary", "=================", f"RunId: {self.id}"]
        lines.append(f"Status: {record.status.value}")
        if record.error and record.error.get("message"):
            lines.append(f"Error: {record.error['message']}")
        return "\n".join(lines) + "\n\n"

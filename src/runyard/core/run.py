"""Run: one execution of an experiment, and everything it logs."""

from __future__ import annotations

import contextvars
import datetime as _dt
import os
from typing import TYPE_CHECKING, Any

from runyard.artifacts.layout import LOG_PREFIXES
from runyard.core.run_files import RunFilesMixin
from runyard.core.run_metrics import RunMetricsMixin
from runyard.core.run_submitted import RunSubmittedMixin
from runyard.entities.run import TERMINAL_STATUSES, RunRecord, RunStatus
from runyard.entities.validation import check_display_name, check_key, check_tag_value
from runyard.errors import AlreadyExists, InvalidState
from runyard.resources import ENV_METRIC_SPOOL, ENV_RUN_ID, ENV_WORKSPACE

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.core.experiment import Experiment
    from runyard.core.model import Model
    from runyard.core.offline_run import OfflineRun
    from runyard.core.workspace import Workspace
    from runyard.entities.metric import MetricRecord
    from runyard.tracking.buffer import MetricBuffer
    from runyard.tracking.heartbeat import Heartbeat


# The run this code runs in; per thread/task, never a module global.
_CURRENT_RUN: contextvars.ContextVar[Run | OfflineRun | None] = contextvars.ContextVar(
    "runyard_current_run", default=None
)


class Run(RunMetricsMixin, RunFilesMixin, RunSubmittedMixin):
    """A run: its status, metrics, tags, properties, files and child runs.

    Get one from ``Experiment.start_logging()``, ``Experiment.submit(...)``,
    ``Run.get(ws, run_id)`` or, inside a training script, ``Run.get_context()``.
    """

    #: Beats while a run started here with ``start_logging()`` is active.
    _heartbeat: Heartbeat | None = None

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        *,
        _record: RunRecord | None = None,
    ) -> None:
        self._experiment: Experiment | None = experiment
        self._workspace = experiment.workspace
        self.id = run_id
        self._record = _record
        self._checked_names: set[str] = set()
        if _record is None:
            self._refresh()

    @classmethod
    def _from_record(
        cls, workspace: Workspace, record: RunRecord, experiment: Experiment | None = None
    ) -> Run:
        """The run of ``record``, as the class of its run type when read through ``Run``
        (a HyperDrive run is a ``HyperDriveRun``, as in v1; see :mod:`.run_types`)."""
        if cls is Run:
            from runyard.core.run_types import run_class

            cls = run_class(record.run_type, Run)
        run = cls.__new__(cls)
        run._workspace = workspace
        run._experiment = experiment
        run.id = record.run_id
        run._record = record
        run._checked_names = set()
        return run

    @classmethod
    def _lazy(cls, workspace: Workspace, run_id: str) -> Run:
        """A run whose record is read on first use (keeps ``get_context`` cheap)."""
        run = cls.__new__(cls)
        run._workspace = workspace
        run._experiment = None
        run.id = run_id
        run._record = None
        run._checked_names = set()
        return run

    # -- getting runs -------------------------------------------------------------
    @staticmethod
    def get(workspace: Workspace, run_id: str) -> Run:
        """The run with this id. Raises NotFound."""
        return Run._from_record(workspace, workspace.resources.store.get_run(run_id))

    @staticmethod
    def get_context(allow_offline: bool = True, **kwargs: Any) -> Run | OfflineRun:
        """The run this code executes in.

        Inside a submitted run, that run; otherwise (the script run by hand) an offline
        run that prints what it logs, or InvalidState when ``allow_offline`` is False.
        """
        current = _CURRENT_RUN.get()
        if current is not None:
            return current
        run_id = os.environ.get(ENV_RUN_ID)
        run: Run | OfflineRun
        if run_id and os.environ.get(ENV_WORKSPACE):
            from runyard.core.workspace import Workspace
            from runyard.tracking.buffer import install_sigterm_exit

            workspace = Workspace._from_json(
                os.environ[ENV_WORKSPACE], metric_spool=os.environ.get(ENV_METRIC_SPOOL)
            )
            run = Run._lazy(workspace, run_id)
            install_sigterm_exit()
        elif not allow_offline:
            raise InvalidState(
                "This code is not running inside a submitted run and allow_offline is False."
            )
        else:
            from runyard.core.offline_run import OfflineRun

            run = OfflineRun()
        _CURRENT_RUN.set(run)
        return run

    # -- identity and state -------------------------------------------------------
    def _refresh(self) -> RunRecord:
        self._record = self._workspace.resources.store.get_run(self.id)
        return self._record

    def _rec(self) -> RunRecord:
        return self._record if self._record is not None else self._refresh()

    @property
    def experiment(self) -> Experiment:
        if self._experiment is None:
            from runyard.core.experiment import Experiment

            self._experiment = Experiment(self._workspace, self._rec().experiment_name)
        return self._experiment

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def number(self) -> int:
        return self._rec().number

    @property
    def display_name(self) -> str:
        return self._rec().display_name

    @display_name.setter
    def display_name(self, value: str) -> None:
        check_display_name(value)
        self._record = self._workspace.resources.store.update_run(self.id, display_name=value)

    @property
    def type(self) -> str:
        return self._rec().run_type

    @property
    def status(self) -> str:
        """The current status (read from the store)."""
        return self.get_status()

    def get_status(self) -> str:
        """The current status: NotStarted, Queued, Preparing, Starting, Running,
        Finalizing, CancelRequested, Completed, Failed or Canceled."""
        return self._refresh().status.value

    @property
    def parent(self) -> Run | None:
        parent_id = self._rec().parent_run_id
        return Run.get(self._workspace, parent_id) if parent_id else None

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._refresh().tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._refresh().properties)

    def get_details(self) -> dict[str, Any]:
        """What SDK v1's ``get_details`` returns: id, status, times, target, tags,
        properties, error, log files, and the run's recorded definition."""
        r = self._refresh()
        details: dict[str, Any] = {
            "runId": r.run_id,
            "displayName": r.display_name,
            "number": r.number,
            "experiment": r.experiment_name,
            "target": r.target or "local",
            "status": r.status.value,
            "runType": r.run_type,
            "parentRunId": r.parent_run_id,
            "createdTimeUtc": _iso(r.created_at),
            "startTimeUtc": _iso(r.started_at),
            "endTimeUtc": _iso(r.ended_at),
            "heartbeatTimeUtc": _iso(r.heartbeat_at),
            "properties": dict(r.properties),
            "tags": dict(r.tags),
            "logFiles": {n: n for n in self.get_file_names() if n.startswith(LOG_PREFIXES)},
        }
        details.update({k: v for k, v in r.details.items() if k not in details})
        if r.error:
            details["error"] = r.error
        return details

    # -- tags and properties --------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag (value may be omitted: an empty tag)."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set several tags, replacing values of the same names."""
        checked = {check_key("Tag", k): check_tag_value("Tag", k, v) for k, v in tags.items()}
        self._workspace.resources.store.set_tags(self.id, checked)

    def remove_tags(self, tags: list[str] | str) -> None:
        """Remove tags by name."""
        names = [tags] if isinstance(tags, str) else list(tags)
        self._workspace.resources.store.remove_tags(self.id, names)

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties; a property that is set cannot be changed (InvalidState)."""
        checked = {
            check_key("Property", k): check_tag_value("Property", k, v)
            for k, v in properties.items()
        }
        self._workspace.resources.store.add_properties(self.id, checked)

    def get_properties(self) -> dict[str, str]:
        return self.properties

    # -- children -----------------------------------------------------------------
    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """Start a child run (status Running) in the same experiment."""
        store = self._workspace.resources.store
        for attempt in range(5):
            child_id = run_id or (
                f"{self.id}_{len(store.list_runs(parent_run_id=self.id))}"
                if attempt == 0
                else f"{self.id}_{os.urandom(3).hex()}"
            )
            try:
                record = store.create_run(
                    self._rec().experiment_name,
                    run_id=child_id,
                    status=RunStatus.RUNNING,
                    display_name=check_display_name(name),
                    parent_run_id=self.id,
                    run_type="child",
                    details={"outputs": outputs} if outputs else None,
                )
                return Run._from_record(self._workspace, record, experiment=self._experiment)
            except AlreadyExists:
                if run_id:
                    raise
        raise AlreadyExists(f"Could not find a free child run id under {self.id}.")

    def get_children(
        self,
        recursive: bool = False,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        type: str | None = None,
        status: str | None = None,
        _rehydrate_runs: bool = True,
    ) -> list[Run]:
        """Child runs, newest first; ``recursive`` also their children."""
        store = self._workspace.resources.store
        found: list[Run] = []
        for record in store.list_runs(parent_run_id=self.id, tags=tags):
            if type and record.run_type != type:
                continue
            if status and record.status.value != status:
                continue
            if properties and any(record.properties.get(k) != v for k, v in properties.items()):
                continue
            child = Run._from_record(self._workspace, record, experiment=self._experiment)
            found.append(child)
        if recursive:
            for child in list(found):
                found.extend(child.get_children(recursive=True))
        return found

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        """Mark a NotStarted or Queued run as Running."""
        self._set_status(RunStatus.RUNNING)

    def complete(self, _set_status: bool = True) -> None:
        """Flush metrics, upload ``outputs`` (for an interactive run) and mark Completed.

        Inside a submitted run's script it only flushes: the executor completes the run
        after uploading ``./outputs``.
        """
        self.flush()
        if self._executor_managed():
            return
        outputs = self._rec().details.get("outputs")
        if outputs and os.path.isdir(outputs):
            self.upload_folder("outputs", outputs)
        if _set_status:
            self._set_status(RunStatus.COMPLETED)

    def fail(
        self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Flush metrics and mark the run Failed with the error's message.

        Inside a submitted run's script, the error is recorded and the executor marks the
        run Failed with it once the script ends and ``./outputs`` is uploaded.
        """
        self.flush()
        error: dict[str, Any] = {"message": str(error_details) if error_details else "Failed"}
        if isinstance(error_details, BaseException):
            error["type"] = type(error_details).__name__
        if error_code:
            error["code"] = error_code
        if self._executor_managed():
            self._record = self._workspace.resources.store.update_run(
                self.id, details={"scriptFailure": error}
            )
            return
        self._set_status(RunStatus.FAILED, error=error)

    def _executor_managed(self) -> bool:
        """Whether this code runs inside this submitted run's script (its executor owns the
        status)."""
        return os.environ.get(ENV_RUN_ID) == self.id and self._rec().run_type == "submitted"

    def cancel(self) -> None:
        """Cancel the run. A submitted run's process tree is stopped by its executor;
        an interactive run is marked Canceled at once. Canceling a finished run does
        nothing."""
        record = self._refresh()
        if record.status in TERMINAL_STATUSES:
            return
        self.flush()
        if record.run_type == "submitted" and record.status != RunStatus.QUEUED:
            self._set_status(RunStatus.CANCEL_REQUESTED)
            from runyard.core.submission import request_cancel

            request_cancel(self)
        else:
            self._set_status(RunStatus.CANCELED)

    def _set_status(self, status: RunStatus, error: dict[str, Any] | None = None) -> None:
        self._record = self._workspace.resources.store.set_run_status(self.id, status, error=error)
        if self._heartbeat is not None and self._record.is_terminal:
            self._workspace.resources.stop_heartbeat(self.id)
            self._heartbeat = None

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the run ends; with ``show_output``, print its log and phase changes
        as they happen.

        Raises:
            RunFailed: the run failed and ``raise_on_error`` (message: the error and the
                tail of its log).
        """
        from runyard.core.run_monitor import wait_for_completion

        return wait_for_completion(
            self,
            show_output=show_output,
            raise_on_error=raise_on_error,
            timeout_seconds=timeout_seconds,
        )

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self._refresh().status in TERMINAL_STATUSES:
            self.flush()
            return
        if exc is None:
            self.complete()
        elif isinstance(exc, (KeyboardInterrupt, SystemExit)):
            self.flush()
            self._set_status(RunStatus.CANCELED, error={"message": f"Interrupted: {exc!r}"})
        else:
            self.fail(exc)

    # -- models -----------------------------------------------------------------------
    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> Model:
        """Register the run's files under ``model_path`` (default ``outputs/model``) as
        the next version of ``model_name``, keeping lineage to this run."""
        from runyard.core.model import Model

        return Model._register_from_run(
            self,
            model_name,
            model_path or "outputs/model",
            tags=tags,
            properties=properties,
            framework=model_framework,
            framework_version=model_framework_version,
            description=description,
        )

    # -- plumbing for the mixins --------------------------------------------------------
    @property
    def _artifacts(self) -> ArtifactStore:
        return self._workspace.resources.artifacts

    @property
    def _buffer(self) -> MetricBuffer:
        return self._workspace.resources.metric_buffer

    def _fetch_metrics(self, name: str | None) -> list[MetricRecord]:
        return self._workspace.resources.store.get_metrics(self.id, name)

    def _take_snapshot(self, folder: str) -> None:
        from runyard.artifacts.snapshots import take_snapshot

        resources = self._workspace.resources
        snapshot_id = take_snapshot(
            resources.artifacts, folder, limit_bytes=resources.settings.snapshot_limit_bytes
        )
        self._record = self._workspace.resources.store.update_run(
            self.id, details={"snapshotId": snapshot_id}
        )

    def __repr__(self) -> str:
        status = self._record.status.value if self._record else "?"
        return f"Run(id={self.id!r}, status={status!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")

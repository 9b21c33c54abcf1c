"""ChildRunner: the tuning engine's TrialRunner over real child runs.

A trial is an ordinary submitted run of the parent's experiment, with id
``<parent>_<trial number>``, built from the trial definition the submitter stored on the
parent (the script, its environment, its target and the snapshot taken once) with the
sampled values appended to its arguments. It is recorded Queued in the store and handed to
its target's backend, exactly as ``Experiment.submit`` does, so its executor carries it
like any other run.

``submit`` is idempotent per trial number: the run id is fixed by the number, so a
resumed controller that submits a trial again finds the run and launches it only if no
backend ever did. ``poll`` reads each child's primary metric incrementally
(``read_metrics(after_seq=...)``); ``cancel`` records the reason on the child and stops it
through its backend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runyard.compute.local.backend import LocalComputeBackend
from runyard.compute.registry import backend_for
from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.metric import MetricKind
from runyard.entities.run import TERMINAL_STATUSES, RunErrorCode, RunRecord, RunStatus
from runyard.entities.run_details import CANCEL_REASON, EXECUTOR, PLACEMENT, RUN_DEFINITION
from runyard.errors import AlreadyExists, InvalidState, NotFound, RunyardError
from runyard.sweep.arguments import trial_arguments
from runyard.sweep.resume import RESUME_FLAG, checkpoint_folder
from runyard.tuning.loop import TrialRunner, TrialUpdate

if TYPE_CHECKING:
    from runyard.compute.backend import ComputeBackend
    from runyard.entities.definition import RunDefinition
    from runyard.resources import WorkspaceResources
    from runyard.sweep.warm import WarmStarter

LOCAL_TARGET = "local"
ACTIVE_STATUSES = tuple(s for s in RunStatus if s not in TERMINAL_STATUSES)
#: A child's details key, written by this runner once the backend took the child: a
#: resumed controller never launches such a child again.
LAUNCHED_AT = "launchedAt"


def child_run_id(parent_id: str, trial: int) -> str:
    """The id of trial ``trial``'s run: ``<parent>_<n>``, as v1 names HyperDrive children."""
    return f"{parent_id}_{trial}"


def target_record(resources: WorkspaceResources, name: str) -> ComputeTargetRecord:
    """The record of compute target ``name`` (``local`` is built in).

    Raises:
        NotFound: the target was deleted since the sweep was submitted.
    """
    if name == LOCAL_TARGET:
        return ComputeTargetRecord(LOCAL_TARGET, "local", {})
    return resources.store.get_compute_target(name)


def primary_values(kind: MetricKind, value: Any) -> list[float]:
    """The reports one logged record makes: a scalar is one, a list (``log_list``) one per
    element; other kinds (rows, tables, images) and non-numbers make none."""
    items = value if kind is MetricKind.LIST and isinstance(value, list) else [value]
    if kind not in (MetricKind.SCALAR, MetricKind.LIST):
        return []
    return [float(v) for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]


class ChildRunner(TrialRunner):
    """Runs trials as child runs of ``parent``; see the module docstring.

    Args:
        resources: the workspace's stores and settings.
        parent: the HyperDrive run's record.
        base: the trial definition stored on the parent (with its snapshot).
        metric: the primary metric's name.
        say: where to write a line of the tuning log.
        backend: the backend of the children's target (default: the compute registry's,
            built on first use).
        warm: on local compute, start the children from a warm launcher
            (:mod:`runyard.sweep.warm`) rather than as a new interpreter each.
    """

    def __init__(
        self,
        resources: WorkspaceResources,
        parent: RunRecord,
        base: RunDefinition,
        metric: str,
        say: Callable[[str], None],
        backend: ComputeBackend | None = None,
        warm: bool = True,
    ) -> None:
        self._resources = resources
        self._store = resources.store
        self._parent = parent
        self._base = base
        self._metric = metric
        self._say = say
        self._backend = backend
        self._warm = warm
        self._starter: WarmStarter | None = None
        self._seq: dict[str, int] = {}
        self._count: dict[str, int] = {}
        self._seen: dict[str, RunStatus] = {}

    # -- the port -----------------------------------------------------------------------
    def submit(self, trial: int, params: Mapping[str, Any], resume_from: str | None) -> str:
        run_id = child_run_id(self._parent.run_id, trial)
        arguments, overridden = trial_arguments(self._base.arguments, params)
        checkpoint_error = None
        if resume_from:  # v1: the same values, and the earlier child's checkpoints
            try:
                folder = checkpoint_folder(self._resources.artifacts, resume_from, run_id)
                arguments = (*arguments, RESUME_FLAG, folder)
            except RunyardError as exc:
                checkpoint_error = exc
        definition = dataclasses.replace(self._base, arguments=arguments)
        # v1 keeps each child's hyperparameters as a parent tag named after the child.
        self._store.set_tags(
            self._parent.run_id, {run_id: json.dumps(dict(params), sort_keys=True)}
        )
        try:
            record = self._store.create_run(
                self._parent.experiment_name,
                run_id=run_id,
                status=RunStatus.QUEUED,
                run_type="submitted",
                target=definition.target,
                parent_run_id=self._parent.run_id,
                details={RUN_DEFINITION: definition.to_dict()},
            )
        except AlreadyExists:
            record = self._store.get_run(run_id)
            launched = {EXECUTOR, PLACEMENT, LAUNCHED_AT} & set(record.details)
            if record.status is not RunStatus.QUEUED or launched:
                return run_id  # submitted before a restart: never twice
        if overridden:
            self._say(
                f"WARNING: {run_id}: the sampled values override these arguments of the "
                f"script: {', '.join(overridden)}."
            )
        if resume_from:
            self._say(f"{run_id} resumes {resume_from} from its checkpoints ({RESUME_FLAG}).")
        if checkpoint_error is not None:
            self._fail_launch(run_id, checkpoint_error)
        else:
            self._launch(run_id, definition)
        return run_id

    def poll(self, known_reports: Mapping[str, int]) -> Sequence[TrialUpdate]:
        # The active children in one listing; the few that ended since the last look one
        # by one: a look costs what is running, not every child the sweep ever had.
        records = {
            r.run_id: r
            for r in self._store.list_runs(
                parent_run_id=self._parent.run_id, statuses=list(ACTIVE_STATUSES)
            )
            if r.run_id in known_reports
        }
        for run_id in known_reports:
            if run_id not in records:
                with contextlib.suppress(NotFound):
                    records[run_id] = self._store.get_run(run_id)
        updates = []
        for run_id in known_reports:
            record = records.get(run_id)
            if record is None:
                continue
            reports = self._new_reports(run_id)
            if not reports and self._seen.get(run_id) is record.status:
                continue
            self._seen[run_id] = record.status
            error = (record.error or {}).get("message") if record.error else None
            updates.append(TrialUpdate(run_id, record.status, tuple(reports), error))
        return updates

    def cancel(self, run_id: str, reason: str) -> None:
        store = self._store
        record = store.update_run(run_id, details={CANCEL_REASON: reason})
        if record.is_terminal:
            return
        if record.status is RunStatus.QUEUED:
            # No executor has started it (or it waits for a slot): it ends here, at once.
            try:
                store.set_run_status(
                    run_id,
                    RunStatus.CANCELED,
                    error={"code": RunErrorCode.CANCELED.value, "message": reason},
                    expected=[RunStatus.QUEUED],
                )
                return
            except InvalidState:
                record = store.get_run(run_id)
                if record.is_terminal:
                    return
        if record.status is not RunStatus.CANCEL_REQUESTED:
            try:
                store.set_run_status(run_id, RunStatus.CANCEL_REQUESTED, expected=[record.status])
            except InvalidState:  # it moved on (maybe ended); its executor still sees it
                if store.get_run(run_id).is_terminal:
                    return
        try:
            self._backend_for_runs().cancel(run_id)
        except RunyardError as exc:  # the executor still sees CancelRequested in a beat
            self._say(f"Could not signal {run_id}'s executor ({exc}); it stops on its next beat.")

    # -- helpers ------------------------------------------------------------------------
    def _new_reports(self, run_id: str) -> list[tuple[int, float]]:
        page = self._store.read_metrics(run_id, self._metric, after_seq=self._seq.get(run_id, 0))
        self._seq[run_id] = page.last_seq
        count = self._count.get(run_id, 0)
        reports = []
        for metric in page.records:
            for value in primary_values(metric.kind, metric.value):
                count += 1
                reports.append((count, value if not math.isnan(value) else math.nan))
        self._count[run_id] = count
        return reports

    def _backend_for_runs(self) -> ComputeBackend:
        if self._backend is None:
            backend = backend_for(
                self._resources, target_record(self._resources, self._base.target)
            )
            if self._warm and isinstance(backend, LocalComputeBackend):
                from runyard.sweep.warm import WarmStarter

                self._starter = WarmStarter(
                    self._resources, self._parent.run_id, self._base.to_dict(), self._say
                )
                backend.spawn = self._starter.spawn
            self._backend = backend
        return self._backend

    def wait(self, timeout: float) -> None:
        """Sleep until the next look at the children: ``timeout`` seconds, or less when
        a child started warm ends sooner."""
        if self._starter is not None:
            self._starter.wait(timeout)
        else:
            time.sleep(timeout)

    def _launch(self, run_id: str, definition: RunDefinition) -> None:
        try:
            self._backend_for_runs().launch(run_id, definition)
            self._store.update_run(run_id, details={LAUNCHED_AT: time.time()})
        except Exception as exc:  # the trial fails and counts; the sweep goes on
            self._fail_launch(run_id, exc)

    def _fail_launch(self, run_id: str, exc: Exception) -> None:
        """Mark a child that could not be started Failed, saying why."""
        reason = str(exc) if isinstance(exc, RunyardError) else f"{type(exc).__name__}: {exc}"
        self._say(f"{run_id} could not be started: {reason}")
        with contextlib.suppress(InvalidState, NotFound):
            self._store.set_run_status(
                run_id,
                RunStatus.FAILED,
                error={
                    "code": RunErrorCode.LAUNCH_FAILED.value,
                    "message": f"The run could not be started: {reason}",
                },
            )

    def close(self) -> None:
        """Release the backend's clients and the warm launcher (never stops runs)."""
        if self._starter is not None:
            self._starter.close()
            self._starter = None
        if self._backend is not None:
            self._backend.close()
            self._backend = None

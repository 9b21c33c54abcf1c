"""The HyperDrive controller: the process that carries one tuning run to its end.

    python -m runyard.sweep RUN_ID        (workspace config as JSON in RUNYARD_WORKSPACE)

It takes the parent run from Queued to Running, drives a
:class:`~runyard.tuning.TuningController` whose trials are child runs
(:class:`~runyard.sweep.children.ChildRunner`), saves the study's state on the parent
(``tuningState``) after every change, beats on the parent, writes the tuning log
(``runyard-logs/hyperdrive.txt``: which child started with which values, which was stopped
and why, the best so far), and ends the parent Completed, Canceled (a ``CancelRequested``
parent: every child is canceled first) or Failed (the controller itself broke).

Started again after it died, it carries on from the saved state: no child is submitted
twice and no budget is lost (see :mod:`runyard.tuning.loop`). A file lock in the run's
scratch folder keeps two controllers of one run on one machine from both driving it, and
the claim it was started under (:mod:`runyard.sweep.launch`) keeps two on different
machines from it: a controller that sees a later claim than its own stops between two
steps, leaving the run to the newer one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
import time
import traceback
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from runyard.artifacts.layout import HYPERDRIVE_LOG, run_file_key
from runyard.entities.definition import RunDefinition
from runyard.entities.run import RunErrorCode, RunStatus
from runyard.entities.run_details import (
    EXECUTOR,
    RUN_DEFINITION,
    TUNING_STATE,
    WARNINGS,
    ExecutorInfo,
)
from runyard.errors import InvalidState
from runyard.node import local_record, processes
from runyard.node.streaming import LogSink
from runyard.resources import ENV_WORKSPACE, WorkspaceResources
from runyard.sweep.children import ChildRunner
from runyard.sweep.launch import ENV_CLAIM, Claim, latest_claim
from runyard.tuning.loop import TuningController
from runyard.tuning.records import TrialRecord, TrialStatus
from runyard.tuning.study import StudyState

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.tracking.heartbeat import Heartbeat

#: Seconds between two looks at the children: a condemned child is canceled within this
#: (plus its executor's stop), and every look costs one listing and one metric read each.
POLL_SECONDS = 0.25
LOCK_FILE = "controller.lock"


class _Superseded(Exception):
    """A newer controller was claimed for the run: this one stops, the run untouched."""


class SweepController:
    """Carries HyperDrive run ``run_id``; see the module docstring.

    Args:
        resources: the workspace's stores and settings.
        run_id: the parent (HyperDrive) run.
        poll_seconds: seconds between steps.
        claim: the claim this controller was started under (None: started by hand; it
            then yields to any claimed controller).
    """

    def __init__(
        self,
        resources: WorkspaceResources,
        run_id: str,
        poll_seconds: float = POLL_SECONDS,
        claim: Claim | None = None,
    ) -> None:
        self.resources = resources
        self.claim = claim
        self.store = resources.store
        self.run_id = run_id
        self.poll_seconds = poll_seconds
        echo = getattr(sys.stdout, "buffer", None)
        self.log = LogSink(resources.artifacts, run_file_key(run_id, HYPERDRIVE_LOG), echo=echo)
        self._shown: dict[int, TrialRecord] = {}
        self._best: str | None = None

    def say(self, message: str) -> None:
        """One line of the tuning log, time-stamped."""
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        for line in message.splitlines() or [""]:
            self.log.line(f"[{stamp}] {line}")

    # -- the process ----------------------------------------------------------------------
    def run(self) -> int:
        """Carry the run to its end (or return when another controller carries it); the
        process exit code."""
        folder = local_record.run_folder(self.resources.settings.scratch_dir, self.run_id)
        os.makedirs(folder, exist_ok=True)
        with _exclusive(os.path.join(folder, LOCK_FILE)) as mine:
            if not mine:
                print(f"Another controller carries {self.run_id}; exiting.", file=sys.stderr)
                return 0
            record = self.store.get_run(self.run_id)
            if record.is_terminal or self._superseded(record):
                return 0
            self.log.start()
            heartbeat = self._announce(record.details.get(EXECUTOR))
            try:
                self._carry()
            except _Superseded:
                self.say(
                    f"Controller {self._generation()} stops: a newer controller was started "
                    "for this run and carries it on."
                )
            except BaseException as exc:
                self._crashed(exc)
            finally:
                heartbeat.stop(wait=True)
                self.log.close()
        return 0

    def _announce(self, launched: object) -> Heartbeat:
        info = ExecutorInfo.from_dict(launched)
        now = time.time()
        mine = ExecutorInfo(
            host=processes.hostname(),
            pid=os.getpid(),
            pid_start=processes.process_start_time(os.getpid()),
            backend="local",
            launched_at=info.launched_at or now,
            started_at=now,
            output=info.output,
        )
        self.store.update_run(self.run_id, details={EXECUTOR: mine.to_dict()}, heartbeat_at=now)
        local_record.update(
            self.resources.settings.scratch_dir,
            self.run_id,
            executor_pid=mine.pid,
            executor_start=mine.pid_start,
        )
        return self.resources.start_heartbeat(self.run_id)

    def _carry(self) -> None:
        record = self.store.get_run(self.run_id)
        state = StudyState.from_json(record.details[TUNING_STATE])
        base = RunDefinition.from_dict(record.details[RUN_DEFINITION])
        spec = state.spec
        resumed = bool(state.trials)
        if record.status in (RunStatus.QUEUED, RunStatus.NOT_STARTED):
            with contextlib.suppress(InvalidState):
                self.store.set_run_status(self.run_id, RunStatus.RUNNING, expected=[record.status])
        self.say(
            f"{'Resumed' if resumed else 'Started'} tuning {self.run_id} (controller pid "
            f"{os.getpid()}): {spec.sampler} sampling, {spec.max_total_runs} runs at most, "
            f"{spec.max_concurrent_runs} at once, primary metric {spec.primary_metric_name!r} "
            f"({spec.goal.value}), policy {spec.policy.to_json().get('name', 'Default')}."
        )
        self._shown = {t.number: t for t in state.trials}
        runner = ChildRunner(self.resources, record, base, spec.primary_metric_name, self.say)
        controller = TuningController(runner, state=state, on_change=self._changed)
        canceling = False
        try:
            while True:
                # Before each step, so that a canceled sweep submits nothing more.
                current = self.store.get_run(self.run_id)
                if self._superseded(current):
                    raise _Superseded
                status = current.status
                # A parent canceled outright (``runyard run cancel``) cancels its children too.
                if not canceling and status in (RunStatus.CANCEL_REQUESTED, RunStatus.CANCELED):
                    canceling = True
                    self.say("Cancel requested: canceling every active child.")
                    controller.cancel("The HyperDrive run was canceled.")
                if controller.step():
                    break
                runner.wait(self.poll_seconds)
        finally:
            runner.close()
        self._finish(controller.state)

    def _generation(self) -> str:
        return str(self.claim.generation) if self.claim else "(unclaimed)"

    def _superseded(self, record: RunRecord) -> bool:
        """Whether a later controller than this one was claimed for the run."""
        latest = latest_claim(record)
        mine = self.claim.generation if self.claim else 0
        return latest is not None and latest.generation > mine

    # -- the tuning log ---------------------------------------------------------------------
    def _changed(self, state: StudyState) -> None:
        self.store.update_run(self.run_id, details={TUNING_STATE: state.to_json()})
        goal = state.spec.goal
        metric = state.spec.primary_metric_name
        for trial in state.trials:
            before = self._shown.get(trial.number)
            if trial.run_id and (before is None or before.run_id is None):
                self.say(f"Started {trial.run_id} with {_params(trial)}")
            if trial.verdict and (before is None or before.verdict is None):
                self.say(f"Stopping {trial.run_id}: {trial.verdict.reason}")
            was_active = before is None or before.status.active
            if not trial.status.active and was_active:
                best = trial.best(goal)
                value = f"best {metric} {best:.6g}" if best is not None else f"no {metric} logged"
                why = f" ({trial.error.splitlines()[0]})" if trial.error else ""
                self.say(f"{trial.run_id} {trial.status.value}: {value}{why}")
            self._shown[trial.number] = trial
        best_trial = state.best_trial(include_inherited=False)
        if best_trial is not None and best_trial.run_id != self._best:
            self._best = best_trial.run_id
            self.say(
                f"Best so far: {best_trial.run_id} {metric}={best_trial.best(goal):.6g} with "
                f"{_params(best_trial)}"
            )

    def _finish(self, state: StudyState) -> None:
        metric = state.spec.primary_metric_name
        counts = ", ".join(
            f"{state.count(s)} {s.value}"
            for s in (TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.CANCELED)
            if state.count(s)
        )
        self.say(f"Tuning ended: {state.end_reason} Children: {counts or 'none'}.")
        notes = []
        best = state.best_trial(include_inherited=False)
        if best is None:
            notes.append(
                f"No child logged the primary metric {metric!r}: there is no best run. Check "
                "that the script logs it with exactly this name (run.log(name, value))."
            )
            self.say(notes[-1])
        else:
            self.say(f"Best run: {best.run_id} {metric}={best.best(state.spec.goal):.6g}")
        if notes:
            self.store.update_run(self.run_id, details={WARNINGS: notes})
        final = RunStatus.CANCELED if state.status == "Canceled" else RunStatus.COMPLETED
        error = {"code": RunErrorCode.CANCELED.value, "message": state.end_reason or ""}
        self.log.flush()
        with contextlib.suppress(InvalidState):
            self.store.set_run_status(
                self.run_id, final, error=error if final is RunStatus.CANCELED else None
            )

    def _crashed(self, exc: BaseException) -> None:
        self.say("".join(traceback.format_exception(exc)).rstrip())
        self.log.flush()
        with contextlib.suppress(Exception):
            self.store.set_run_status(
                self.run_id,
                RunStatus.FAILED,
                error={
                    "code": RunErrorCode.EXECUTOR_ERROR.value,
                    "message": f"The tuning controller failed: {type(exc).__name__}: {exc}. "
                    "Its children were left as they were; see runyard-logs/hyperdrive.txt.",
                },
            )


def _params(trial: TrialRecord) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in trial.params.items())


@contextlib.contextmanager
def _exclusive(path: str) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` for the block; yields whether it was got."""
    try:
        import fcntl
    except ImportError:  # Windows: the heartbeat check in launch.py is the only guard
        yield True
        return
    handle: IO[bytes] = open(path, "ab")  # noqa: SIM115
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        handle.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m runyard.sweep RUN_ID``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m runyard.sweep RUN_ID", file=sys.stderr)
        return 2
    if not os.environ.get(ENV_WORKSPACE):
        print(
            f"runyard.sweep: {ENV_WORKSPACE} is not set (the workspace config as JSON).",
            file=sys.stderr,
        )
        return 2
    from runyard.settings import Settings

    resources = WorkspaceResources.from_json(os.environ[ENV_WORKSPACE], Settings.from_env())
    try:
        claim = Claim.from_env(os.environ.get(ENV_CLAIM))
        return SweepController(resources, args[0], claim=claim).run()
    finally:
        resources.close()

"""The tuning controller: samples trials, submits them through a port, applies the policy.

The controller knows nothing of runs, stores or compute: it drives a :class:`TrialRunner`
(the real one submits child runs; the tests use an in-memory fake). One :meth:`step`
polls the runner, records new reports and terminal statuses, applies the early-termination
policy, enforces ``max_duration_minutes``, and submits new trials while the budget and the
concurrency allow. :meth:`TuningController.run` steps until the study ends.

Budget: every trial counts toward ``max_total_runs`` once it is sampled, whether it
completes, fails or is stopped (v1: "runs stopped by the policy count"). A grid that is
smaller than the budget ends the study early.

Resuming: the controller calls ``on_change`` with its :class:`StudyState` whenever the
state changes, and *before* each submission (the trial is then ``Queued``). A controller
built from a saved state re-submits its ``Queued`` trials, relying on the runner's
idempotent ``submit``, and polls its ``Running`` ones; so no child is submitted twice and
no budget is lost, wherever the previous controller stopped.

Beyond v1: the sampler is told about trials stopped by the policy as *pruned*, with their
reports, so TPE can use early termination (v1 refuses a policy with Bayesian sampling).
"""

from __future__ import annotations

import abc
import dataclasses
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runyard.entities.run import RunStatus
from runyard.errors import InvalidArgument, InvalidState
from runyard.tuning.records import Report, TrialRecord, TrialStatus
from runyard.tuning.samplers import Sampler, make_sampler
from runyard.tuning.study import ResumedChild, StudyState, TuningSpec


@dataclass(frozen=True)
class TrialUpdate:
    """What the runner knows of one child run now.

    Attributes:
        run_id: the child run.
        status: its status (terminal or not).
        reports: primary-metric reports (interval, value) after the ones the controller
            said it had; re-delivered reports are ignored, so a runner may send more.
        error: why it failed, for a Failed child.
    """

    run_id: str
    status: RunStatus
    reports: tuple[Report, ...] = ()
    error: str | None = None


class TrialRunner(abc.ABC):
    """The port through which the controller runs trials.

    Contract:

    * :meth:`submit` is idempotent per trial number within a study: called again for a
      number it has already submitted, it returns the same run id and starts nothing (a
      resumed controller re-submits the trials it had not recorded as submitted).
    * :meth:`poll` is given, for each child to watch, how many primary-metric reports the
      controller has; it returns an update for each child whose status or reports
      changed (it may return unchanged ones too).
    * :meth:`cancel` asks for a child to end Canceled, recording ``reason`` on it; the
      child's end comes through a later :meth:`poll`.
    """

    @abc.abstractmethod
    def submit(self, trial: int, params: Mapping[str, Any], resume_from: str | None) -> str:
        """Start trial ``trial`` with ``params`` (re-running child ``resume_from``, if
        given, from its checkpoints); return the child run's id."""

    @abc.abstractmethod
    def poll(self, known_reports: Mapping[str, int]) -> Sequence[TrialUpdate]:
        """The children's statuses and their reports beyond ``known_reports[run_id]``."""

    @abc.abstractmethod
    def cancel(self, run_id: str, reason: str) -> None:
        """Ask child ``run_id`` to stop, recording ``reason``."""


class TuningController:
    """Drives a study through a :class:`TrialRunner`; see the module docstring.

    Args:
        runner: the port that runs trials.
        spec: a new study's specification (give this or ``state``).
        state: a saved study to resume.
        inherited: finished trials of earlier studies (``resume_from``), for a new study.
        resume_children: earlier child runs to re-run first (``resume_child_runs``).
        clock: seconds since the epoch (``time.time``; tests pass a fake).
        on_change: called with the new state after every change, to persist it.

    Raises:
        InvalidArgument: neither or both of ``spec`` and ``state`` are given.
    """

    def __init__(
        self,
        runner: TrialRunner,
        spec: TuningSpec | None = None,
        *,
        state: StudyState | None = None,
        inherited: Sequence[TrialRecord] = (),
        resume_children: Sequence[ResumedChild] = (),
        clock: Callable[[], float] = time.time,
        on_change: Callable[[StudyState], None] | None = None,
    ) -> None:
        if (spec is None) == (state is None):
            raise InvalidArgument("Give a TuningController either a spec or a saved state.")
        if state is None:
            assert spec is not None
            state = StudyState.new(spec, clock(), inherited, resume_children)
        self._runner = runner
        self._clock = clock
        self._on_change = on_change
        self._state = state
        self._trials: dict[int, TrialRecord] = {t.number: t for t in state.trials}
        self._by_run = {t.run_id: t.number for t in state.trials if t.run_id}
        spec = state.spec
        self._sampler: Sampler = make_sampler(spec.sampler, spec.space, spec.goal, state.seed)
        self._sampler.warm_start(state.inherited)
        self._sampler.restore(state.trials)
        self._peers: dict[Hashable, tuple[Report, ...]] = {
            ("inherited", t.source, t.number): t.reports for t in state.inherited if t.reports
        }

    # -- reading ---------------------------------------------------------------------
    @property
    def state(self) -> StudyState:
        """The study's state now (an immutable snapshot)."""
        return self._state

    @property
    def finished(self) -> bool:
        """Whether the study has ended."""
        return self._state.status in ("Completed", "Canceled")

    # -- driving ---------------------------------------------------------------------
    def run(
        self, poll_interval: float = 5.0, sleep: Callable[[float], None] = time.sleep
    ) -> StudyState:
        """Step until the study ends; return its final state."""
        while not self.step():
            sleep(poll_interval)
        return self._state

    def step(self) -> bool:
        """Poll, record, apply the policy and the duration, submit; return whether the
        study has ended."""
        if self.finished:
            return True
        self._submit_queued()
        self._apply(self._poll())
        if self._state.end_reason is None and self._past_deadline():
            self._stop_all(
                f"max_duration_minutes ({self._state.spec.max_duration_minutes:g}) reached."
            )
        if self._state.end_reason is None:
            self._submit_new()
        self._finish_if_done()
        return self.finished

    def cancel(self, reason: str = "The tuning run was canceled.") -> None:
        """Stop submitting and cancel every active trial; the study ends Canceled once
        the runner reports them ended (or at once when none is active)."""
        if self.finished:
            return
        self._submit_queued()
        self._stop_all(reason, cancel=True)
        self._finish_if_done()

    # -- the parts of a step -----------------------------------------------------------
    def _poll(self) -> Sequence[TrialUpdate]:
        watch = {
            t.run_id: len(t.reports)
            for t in self._trials.values()
            if t.status is TrialStatus.RUNNING and t.run_id
        }
        return self._runner.poll(watch) if watch else ()

    def _apply(self, updates: Sequence[TrialUpdate]) -> None:
        new_reports = False
        for update in updates:
            number = self._by_run.get(update.run_id)
            if number is None:
                continue
            trial = self._trials[number]
            if not trial.status.active:
                continue
            known = trial.reports[-1][0] if trial.reports else 0
            fresh = tuple((i, float(v)) for i, v in update.reports if i > known)
            if fresh:
                new_reports = True
                trial = dataclasses.replace(trial, reports=trial.reports + fresh)
            status = RunStatus(update.status)
            if status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED):
                trial = self._end(trial, status, update.error)
            self._trials[number] = trial
        if new_reports:
            self._apply_policy()
        if updates:
            self._save()

    def _end(self, trial: TrialRecord, status: RunStatus, error: str | None) -> TrialRecord:
        ended = dataclasses.replace(
            trial, status=TrialStatus(status.value), error=error or trial.error
        )
        goal = self._state.spec.goal
        if ended.status is TrialStatus.COMPLETED:
            self._sampler.tell(ended.number, "complete", ended.best(goal), ended.reports)
        elif ended.status is TrialStatus.CANCELED and ended.reports:
            self._sampler.tell(ended.number, "pruned", None, ended.reports)
        else:
            self._sampler.tell(ended.number, "fail")
        return ended

    def _apply_policy(self) -> None:
        spec = self._state.spec
        series = dict(self._peers)
        series.update({t.number: t.reports for t in self._trials.values() if t.reports})
        running = [
            t.number
            for t in self._trials.values()
            if t.status is TrialStatus.RUNNING and not t.cancel_requested and t.reports
        ]
        for verdict in spec.policy.evaluate(series, spec.goal, running):
            trial = self._trials[verdict.trial]
            assert trial.run_id is not None
            self._runner.cancel(trial.run_id, verdict.reason)
            self._trials[trial.number] = dataclasses.replace(
                trial, verdict=verdict, cancel_requested=True
            )

    def _past_deadline(self) -> bool:
        spec = self._state.spec
        return self._clock() >= self._state.started_at + spec.max_duration_minutes * 60

    def _stop_all(self, reason: str, cancel: bool = False) -> None:
        for trial in list(self._trials.values()):
            if trial.status is TrialStatus.RUNNING and not trial.cancel_requested:
                assert trial.run_id is not None
                self._runner.cancel(trial.run_id, reason)
                self._trials[trial.number] = dataclasses.replace(
                    trial, cancel_requested=True, error=reason
                )
        self._state = dataclasses.replace(self._current(), end_reason=reason)
        if cancel:
            self._state = dataclasses.replace(self._state, status="Canceling")
        self._save()

    def _budget_left(self) -> bool:
        spec = self._state.spec
        count = len(self._trials)
        if count >= spec.max_total_runs:
            return False
        size = self._sampler.size
        return size is None or count < size + len(self._state.resume_children)

    def _submit_new(self) -> None:
        spec = self._state.spec
        while self._budget_left():
            active = sum(1 for t in self._trials.values() if t.status.active)
            if active >= spec.max_concurrent_runs:
                return
            number = len(self._trials)
            children = self._state.resume_children
            child = children[number] if number < len(children) else None
            asked, params = self._sampler.ask(child.params if child else None)
            if asked != number:
                raise InvalidState(f"The sampler numbered trial {number} as {asked}.")
            self._trials[number] = TrialRecord(
                number, params, resumed_from=child.run_id if child else None
            )
            self._save()  # Queued first: a crash from here on re-submits, never loses it.
            self._submit(number)

    def _submit_queued(self) -> None:
        for trial in sorted(self._trials.values(), key=lambda t: t.number):
            if trial.status is TrialStatus.QUEUED:
                self._submit(trial.number)

    def _submit(self, number: int) -> None:
        trial = self._trials[number]
        run_id = self._runner.submit(number, trial.params, trial.resumed_from)
        self._by_run[run_id] = number
        self._trials[number] = dataclasses.replace(trial, status=TrialStatus.RUNNING, run_id=run_id)
        self._save()

    def _finish_if_done(self) -> None:
        if any(t.status.active for t in self._trials.values()):
            return
        state = self._current()
        if state.status == "Canceling":
            self._state = dataclasses.replace(state, status="Canceled")
        elif state.end_reason is not None or not self._budget_left():
            reason = state.end_reason
            if reason is None:
                reason = (
                    f"max_total_runs ({state.spec.max_total_runs}) reached."
                    if len(self._trials) >= state.spec.max_total_runs
                    else f"All {len(self._trials)} points of the grid were run."
                )
            self._state = dataclasses.replace(state, status="Completed", end_reason=reason)
        else:
            return
        self._save()

    # -- state -----------------------------------------------------------------------
    def _current(self) -> StudyState:
        trials = tuple(self._trials[n] for n in sorted(self._trials))
        return dataclasses.replace(self._state, trials=trials)

    def _save(self) -> None:
        self._state = self._current()
        if self._on_change is not None:
            self._on_change(self._state)

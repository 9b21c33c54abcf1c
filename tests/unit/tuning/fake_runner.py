"""An in-memory TrialRunner: each child reports one value per poll from a script."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runyard.entities.run import RunStatus
from runyard.tuning.loop import TrialRunner, TrialUpdate


@dataclass
class Child:
    run_id: str
    trial: int
    params: dict[str, Any]
    values: list[float]
    end: RunStatus
    resume_from: str | None = None
    emitted: int = 0
    status: RunStatus = RunStatus.RUNNING
    cancel_reason: str | None = None


@dataclass
class FakeRunner(TrialRunner):
    """Children named ``study_<n>``; ``script(params) -> (values, final status)``.

    Every poll, each running child emits its next value; once all are out it ends with
    its final status. ``cancel`` ends the child Canceled at the next poll.
    """

    script: Callable[[dict[str, Any]], tuple[list[float], RunStatus]]
    children: dict[str, Child] = field(default_factory=dict)
    submissions: list[int] = field(default_factory=list)
    max_seen_concurrency: int = 0

    def submit(self, trial: int, params: Mapping[str, Any], resume_from: str | None) -> str:
        run_id = f"study_{trial}"
        if run_id not in self.children:  # idempotent per trial number, as the port requires
            values, end = self.script(dict(params))
            self.children[run_id] = Child(run_id, trial, dict(params), values, end, resume_from)
            self.submissions.append(trial)
        running = sum(1 for c in self.children.values() if c.status is RunStatus.RUNNING)
        self.max_seen_concurrency = max(self.max_seen_concurrency, running)
        return run_id

    def poll(self, known_reports: Mapping[str, int]) -> Sequence[TrialUpdate]:
        updates = []
        for run_id, known in known_reports.items():
            child = self.children[run_id]
            if child.status is RunStatus.RUNNING:
                if child.cancel_reason is not None:
                    child.status = RunStatus.CANCELED
                elif child.emitted < len(child.values):
                    child.emitted += 1
                else:
                    child.status = child.end
            reports = tuple(
                (i + 1, v) for i, v in enumerate(child.values[: child.emitted]) if i >= known
            )
            error = "boom" if child.status is RunStatus.FAILED else None
            updates.append(TrialUpdate(run_id, child.status, reports, error))
        return updates

    def cancel(self, run_id: str, reason: str) -> None:
        self.children[run_id].cancel_reason = reason

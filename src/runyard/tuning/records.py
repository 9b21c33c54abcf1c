"""The records every part of the tuning engine shares: goal, trial status, trial, verdict."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from runyard.errors import InvalidArgument

#: One report of the primary metric: (interval, value). Intervals count from 1: each time
#: the script logs the primary metric is one interval (v1's definition).
Report: TypeAlias = tuple[int, float]


class Goal(str, enum.Enum):
    """Whether the primary metric is to be maximised or minimised."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @classmethod
    def parse(cls, value: object) -> Goal:
        """A goal from ``"maximize"``/``"MINIMIZE"`` (any case) or a goal-like enum.

        Raises:
            InvalidArgument: the value names neither goal.
        """
        if isinstance(value, Goal):
            return value
        text = getattr(value, "value", value)
        if isinstance(text, str):
            try:
                return cls(text.lower())
            except ValueError:
                pass
        raise InvalidArgument(f"The goal must be 'maximize' or 'minimize', got {value!r}.")

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b``."""
        return a > b if self is Goal.MAXIMIZE else a < b

    def best(self, values: Iterable[float]) -> float:
        """The best of ``values`` (v1 reduces a list-valued metric this way)."""
        return max(values) if self is Goal.MAXIMIZE else min(values)


class TrialStatus(str, enum.Enum):
    """Where a trial is. ``QUEUED``: sampled and being submitted (the child may or may not
    exist yet); ``RUNNING``: its child run exists and is not terminal."""

    QUEUED = "Queued"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def active(self) -> bool:
        """Whether the trial still holds a concurrency slot."""
        return self in (TrialStatus.QUEUED, TrialStatus.RUNNING)


@dataclass(frozen=True)
class Verdict:
    """An early-termination policy's decision to stop one trial, and why.

    Attributes:
        trial: the trial's number.
        policy: the policy's v1 name (``"Bandit"``, ``"MedianStopping"``...).
        interval: the evaluation interval at which the trial was judged.
        value: the trial's value the policy compared (its best up to ``interval`` for
            Bandit and MedianStopping, its value at ``interval`` for TruncationSelection).
        threshold: the value it had to reach.
    """

    trial: int
    policy: str
    interval: int
    value: float
    threshold: float

    @property
    def reason(self) -> str:
        """One line for the child's error and the parent's log."""
        return (
            f"Canceled by the {self.policy} early-termination policy at interval "
            f"{self.interval}: the primary metric {self.value:.6g} did not reach the "
            f"threshold {self.threshold:.6g}."
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "trial": self.trial,
            "policy": self.policy,
            "interval": self.interval,
            "value": self.value,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        """The inverse of :meth:`to_json`."""
        return cls(
            int(data["trial"]),
            str(data["policy"]),
            int(data["interval"]),
            float(data["value"]),
            float(data["threshold"]),
        )


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a study: its parameters, its child run and what it reported.

    Attributes:
        number: the trial's number in its study (0, 1, ...).
        params: the values the script gets, by parameter name.
        status: where the trial is.
        run_id: the child run, once submitted.
        reports: the primary metric's reports, (interval, value), in order.
        verdict: the policy verdict that stopped it, if one did.
        error: why it failed or was canceled otherwise (duration, user cancel), if known.
        source: for a trial inherited from another study (``resume_from``), that study's
            id; empty for the study's own trials.
        resumed_from: the earlier child run this trial re-runs (``resume_child_runs``).
        cancel_requested: the controller asked the runner to cancel the child.
    """

    number: int
    params: Mapping[str, Any]
    status: TrialStatus = TrialStatus.QUEUED
    run_id: str | None = None
    reports: tuple[Report, ...] = ()
    verdict: Verdict | None = None
    error: str | None = None
    source: str = ""
    resumed_from: str | None = None
    cancel_requested: bool = False

    def best(self, goal: Goal) -> float | None:
        """The best reported value (NaN reports ignored), or None without any."""
        values = [v for _, v in self.reports if not math.isnan(v)]
        return goal.best(values) if values else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "number": self.number,
            "params": dict(self.params),
            "status": self.status.value,
            "run_id": self.run_id,
            "reports": [[i, _json_float(v)] for i, v in self.reports],
            "verdict": self.verdict.to_json() if self.verdict else None,
            "error": self.error,
            "source": self.source,
            "resumed_from": self.resumed_from,
            "cancel_requested": self.cancel_requested,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrialRecord:
        """The inverse of :meth:`to_json`."""
        verdict = data.get("verdict")
        return cls(
            number=int(data["number"]),
            params=dict(data["params"]),
            status=TrialStatus(data["status"]),
            run_id=data.get("run_id"),
            reports=tuple((int(i), _float(v)) for i, v in data.get("reports", ())),
            verdict=Verdict.from_json(verdict) if verdict else None,
            error=data.get("error"),
            source=str(data.get("source", "")),
            resumed_from=data.get("resumed_from"),
            cancel_requested=bool(data.get("cancel_requested", False)),
        )


def _json_float(value: float) -> float | str:
    # JSON has no NaN or infinity; keep them as strings that float() reads back.
    return value if math.isfinite(value) else str(value)


def _float(value: float | str) -> float:
    return float(value)


def series_of(trials: Sequence[TrialRecord]) -> dict[int, tuple[Report, ...]]:
    """The policy's input: each trial's reports, by trial number."""
    return {trial.number: trial.reports for trial in trials}

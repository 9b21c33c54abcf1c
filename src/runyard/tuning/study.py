"""A study's specification and its persisted state, both JSON-serialisable.

:class:`TuningSpec` is what a sweep is (HyperDriveConfig produces one); :class:`StudyState`
is everything a controller needs to carry on after a restart: the spec, the resolved seed,
when the study started (so ``max_duration_minutes`` keeps counting), every trial with its
parameters, child run, status and reports, the trials inherited from resumed studies, and
the child runs still to be resumed.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runyard.errors import InvalidArgument
from runyard.tuning.policies import NoTerminationPolicy, Policy, policy_from_json
from runyard.tuning.records import Goal, TrialRecord, TrialStatus
from runyard.tuning.samplers import SAMPLER_NAMES
from runyard.tuning.space import Expression, check_space, space_from_json, space_to_json

STATE_VERSION = 1


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be a positive int, got {value!r}.")
    return value


@dataclass(frozen=True)
class TuningSpec:
    """What a sweep is: the space, how to sample it, when to stop trials and the study.

    Attributes:
        space: parameter name -> expression.
        sampler: one of :data:`runyard.tuning.samplers.SAMPLER_NAMES`.
        primary_metric_name: the metric the script logs, one report per interval.
        goal: maximise or minimise it.
        max_total_runs: trials at most, stopped and failed ones included.
        max_concurrent_runs: trials at once.
        max_duration_minutes: the study's wall-clock limit; trials still running then are
            canceled.
        policy: the early-termination policy.
        seed: the sampler's seed; None picks one when the study starts (and records it).
    """

    space: Mapping[str, Expression]
    sampler: str
    primary_metric_name: str
    goal: Goal
    max_total_runs: int
    max_concurrent_runs: int
    max_duration_minutes: float = 10080
    policy: Policy = field(default_factory=NoTerminationPolicy)
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", check_space(self.space))
        object.__setattr__(self, "goal", Goal.parse(self.goal))
        if self.sampler not in SAMPLER_NAMES:
            raise InvalidArgument(
                f"Unknown sampler {self.sampler!r}; known: {', '.join(SAMPLER_NAMES)}."
            )
        if not isinstance(self.primary_metric_name, str) or not self.primary_metric_name:
            raise InvalidArgument("primary_metric_name must be the name the script logs.")
        _positive_int("max_total_runs", self.max_total_runs)
        _positive_int("max_concurrent_runs", self.max_concurrent_runs)
        minutes = self.max_duration_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
            raise InvalidArgument(f"max_duration_minutes must be positive, got {minutes!r}.")
        if not isinstance(self.policy, Policy):
            raise InvalidArgument(
                f"policy must be an early-termination policy, got {self.policy!r}."
            )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise InvalidArgument(f"seed must be an int or None, got {self.seed!r}.")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (the space and policy in v1's JSON forms)."""
        return {
            "space": space_to_json(self.space),
            "sampler": self.sampler,
            "primary_metric_name": self.primary_metric_name,
            "goal": self.goal.value,
            "max_total_runs": self.max_total_runs,
            "max_concurrent_runs": self.max_concurrent_runs,
            "max_duration_minutes": self.max_duration_minutes,
            "policy": self.policy.to_json(),
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TuningSpec:
        """The inverse of :meth:`to_json`.

        Raises:
            InvalidArgument: a field is missing or breaks its rules.
        """
        try:
            return cls(
                space=space_from_json(data["space"]),
                sampler=data["sampler"],
                primary_metric_name=data["primary_metric_name"],
                goal=Goal.parse(data["goal"]),
                max_total_runs=data["max_total_runs"],
                max_concurrent_runs=data["max_concurrent_runs"],
                max_duration_minutes=data["max_duration_minutes"],
                policy=policy_from_json(data.get("policy")),
                seed=data.get("seed"),
            )
        except KeyError as exc:
            raise InvalidArgument(f"A tuning spec needs {exc.args[0]!r}.") from exc


@dataclass(frozen=True)
class ResumedChild:
    """A child run of an earlier study to run again with the same parameters (v1's
    ``resume_child_runs``); the script gets ``--resume-from`` with its checkpoints."""

    run_id: str
    params: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {"run_id": self.run_id, "params": dict(self.params)}


@dataclass(frozen=True)
class StudyState:
    """Everything a controller needs to resume a study; see the module docstring.

    Attributes:
        spec: the study's specification.
        seed: the sampler's seed (the spec's, or the one picked at the start).
        started_at: when the study started, seconds since the epoch.
        trials: the study's own trials, by number.
        inherited: finished trials of resumed studies (warm start, policy peers).
        resume_children: child runs that the first trials re-run, in order.
        status: ``Running``, ``Completed`` or ``Canceled``.
        end_reason: why the study ended (budget, grid exhausted, duration, cancel).
    """

    spec: TuningSpec
    seed: int
    started_at: float
    trials: tuple[TrialRecord, ...] = ()
    inherited: tuple[TrialRecord, ...] = ()
    resume_children: tuple[ResumedChild, ...] = ()
    status: str = "Running"
    end_reason: str | None = None

    @classmethod
    def new(
        cls,
        spec: TuningSpec,
        started_at: float,
        inherited: Sequence[TrialRecord] = (),
        resume_children: Sequence[ResumedChild] = (),
    ) -> StudyState:
        """The state of a study that starts now (picks a seed when the spec has none)."""
        seed = spec.seed if spec.seed is not None else secrets.randbelow(2**31)
        return cls(spec, seed, started_at, (), tuple(inherited), tuple(resume_children))

    def best_trial(self, include_inherited: bool = True) -> TrialRecord | None:
        """The trial with the best reported value (v1: the best of each trial's list),
        whatever its status; None when no trial has reported."""
        goal = self.spec.goal
        best: tuple[float, TrialRecord] | None = None
        for trial in (*self.trials, *(self.inherited if include_inherited else ())):
            value = trial.best(goal)
            if value is not None and (best is None or goal.better(value, best[0])):
                best = (value, trial)
        return best[1] if best else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "version": STATE_VERSION,
            "spec": self.spec.to_json(),
            "seed": self.seed,
            "started_at": self.started_at,
            "trials": [t.to_json() for t in self.trials],
            "inherited": [t.to_json() for t in self.inherited],
            "resume_children": [c.to_json() for c in self.resume_children],
            "status": self.status,
            "end_reason": self.end_reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StudyState:
        """The inverse of :meth:`to_json`.

        Raises:
            InvalidArgument: the state is of another version or malformed.
        """
        if data.get("version") != STATE_VERSION:
            raise InvalidArgument(
                f"Study state version {data.get('version')!r} is not supported (this Runyard "
                f"reads version {STATE_VERSION}); resume it with the Runyard that wrote it."
            )
        started = float(data["started_at"])
        if not math.isfinite(started):
            raise InvalidArgument("A study state's started_at must be a finite time.")
        return cls(
            spec=TuningSpec.from_json(data["spec"]),
            seed=int(data["seed"]),
            started_at=started,
            trials=tuple(TrialRecord.from_json(t) for t in data.get("trials", ())),
            inherited=tuple(TrialRecord.from_json(t) for t in data.get("inherited", ())),
            resume_children=tuple(
                ResumedChild(c["run_id"], dict(c["params"]))
                for c in data.get("resume_children", ())
            ),
            status=str(data.get("status", "Running")),
            end_reason=data.get("end_reason"),
        )

    def active(self) -> list[TrialRecord]:
        """The trials that hold a concurrency slot."""
        return [t for t in self.trials if t.status.active]

    def count(self, status: TrialStatus) -> int:
        """How many of the study's own trials have ``status``."""
        return sum(1 for t in self.trials if t.status is status)

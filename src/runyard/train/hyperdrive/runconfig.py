"""``HyperDriveConfig`` (and its old name ``HyperDriveRunConfig``) and ``PrimaryMetricGoal``.

A HyperDriveConfig holds and validates a sweep as v1 does, and produces the tuning
engine's :class:`~runyard.tuning.TuningSpec` (:meth:`HyperDriveConfig.to_tuning_spec`) and
the parent run's v1 tags (:meth:`HyperDriveConfig.parent_tags`). It only *holds* the
estimator or ScriptRunConfig that each child clones: submitting is the experiment's job.
"""

from __future__ import annotations

import enum
import json
import warnings
from typing import Any

from runyard.train.hyperdrive.exceptions import (
    HyperDriveConfigException,
    HyperDriveScenarioNotSupportedException,
)
from runyard.train.hyperdrive.policy import NoTerminationPolicy
from runyard.train.hyperdrive.sampling import BayesianParameterSampling, HyperParameterSampling
from runyard.tuning.policies import Policy
from runyard.tuning.records import Goal
from runyard.tuning.study import TuningSpec

MAX_TOTAL_RUNS = 1000
MAX_CONCURRENT_RUNS = 100
MAX_DURATION_MINUTES = 10080
MAX_RESUME_FROM = 5
MAX_RESUME_PARENTS = 5
_TERMINAL = ("Completed", "Canceled")


class PrimaryMetricGoal(enum.Enum):
    """Whether the primary metric is to be maximised or minimised."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @classmethod
    def from_str(cls, goal: str) -> PrimaryMetricGoal:
        """The goal named ``goal``, in any case.

        Raises:
            HyperDriveConfigException: neither ``maximize`` nor ``minimize``.
        """
        for member in cls:
            if isinstance(goal, str) and goal.upper() == member.value:
                return member
        raise HyperDriveConfigException(
            f"primary_metric_goal must be PrimaryMetricGoal.MAXIMIZE or MINIMIZE, got {goal!r}."
        )


def _int_in(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HyperDriveConfigException(
            f"{name} must be an int from {low} to {high}, got {value!r}."
        )
    return value


def _as_list(name: str, value: object) -> list[Any]:
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)) and not items:
        raise HyperDriveConfigException(f"{name} is an empty list; leave it out instead.")
    return items


def _status(run: object) -> str | None:
    get_status = getattr(run, "get_status", None)
    return str(get_status()) if callable(get_status) else None


class HyperDriveConfig:
    """A hyperparameter sweep: what to run, the space, the goal, the budget and the policy.

    Args:
        hyperparameter_sampling: a Random/Grid/Bayesian/OptunaParameterSampling.
        primary_metric_name: the metric the script logs, exactly as logged.
        primary_metric_goal: ``PrimaryMetricGoal.MAXIMIZE`` or ``MINIMIZE`` (or the string).
        max_total_runs: at most this many child runs, an int from 1 to 1000; runs stopped
            by the policy or failed count toward it.
        max_concurrent_runs: at most this many at once, 1 to 100; None: all at once.
        max_duration_minutes: the sweep's limit; runs still going then are canceled. At
            most 10080 (7 days); a larger value is lowered with a warning.
        policy: an early-termination policy; None means ``NoTerminationPolicy()``.
        estimator: an Estimator to clone for each child (give this, or ``run_config``).
        run_config: a ScriptRunConfig to clone for each child.
        resume_from: a HyperDriveRun or a list of up to 5, Completed or Canceled, with the
            same primary metric and goal: their children warm-start the sweep.
        resume_child_runs: child runs to run again, from their checkpoints, with the same
            hyperparameters (the script gets ``--resume-from``).
        pipeline: not supported (Runyard has no pipelines).
        debug_flag: accepted and ignored, as a v1 service flag.

    Raises:
        HyperDriveConfigException: a missing, malformed or out-of-range argument.
        HyperDriveScenarioNotSupportedException: a pipeline, or a policy with Bayesian
            sampling.
    """

    def __init__(
        self,
        hyperparameter_sampling: HyperParameterSampling,
        primary_metric_name: str,
        primary_metric_goal: PrimaryMetricGoal | str,
        max_total_runs: int,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: int = MAX_DURATION_MINUTES,
        policy: Policy | None = None,
        estimator: Any = None,
        run_config: Any = None,
        resume_from: Any = None,
        resume_child_runs: Any = None,
        pipeline: Any = None,
        debug_flag: Any = None,
    ) -> None:
        targets = [t for t in (estimator, run_config, pipeline) if t is not None]
        if len(targets) != 1:
            raise HyperDriveConfigException(
                "Give exactly one of estimator=, run_config= (a ScriptRunConfig) or pipeline=; "
                f"got {len(targets)}."
            )
        if pipeline is not None:
            raise HyperDriveScenarioNotSupportedException(
                "Runyard has no pipelines: tune a ScriptRunConfig (run_config=) or an "
                "Estimator (estimator=) instead."
            )
        if run_config is not None and not all(
            hasattr(run_config, a) for a in ("source_directory", "script", "arguments")
        ):
            raise HyperDriveConfigException(
                f"run_config must be a ScriptRunConfig, got {type(run_config).__name__}."
            )
        if estimator is not None and not all(
            hasattr(estimator, a) for a in ("source_directory", "entry_script", "script_params")
        ):
            raise HyperDriveConfigException(
                f"estimator must be an Estimator, got {type(estimator).__name__}."
            )
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise HyperDriveConfigException(
                "hyperparameter_sampling must be a RandomParameterSampling, "
                "GridParameterSampling, BayesianParameterSampling or OptunaParameterSampling, "
                f"got {hyperparameter_sampling!r}."
            )
        if not isinstance(primary_metric_name, str) or not primary_metric_name:
            raise HyperDriveConfigException(
                "primary_metric_name must be the name the training script logs, e.g. 'Accuracy'."
            )
        goal = (
            primary_metric_goal
            if isinstance(primary_metric_goal, PrimaryMetricGoal)
            else PrimaryMetricGoal.from_str(primary_metric_goal)
        )
        _int_in("max_total_runs", max_total_runs, 1, MAX_TOTAL_RUNS)
        if max_concurrent_runs is None:
            max_concurrent_runs = max_total_runs
        else:
            _int_in("max_concurrent_runs", max_concurrent_runs, 1, MAX_CONCURRENT_RUNS)
        if (
            isinstance(max_duration_minutes, bool)
            or not isinstance(max_duration_minutes, (int, float))
            or max_duration_minutes <= 0
        ):
            raise HyperDriveConfigException(
                f"max_duration_minutes must be a positive number, got {max_duration_minutes!r}."
            )
        if max_duration_minutes > MAX_DURATION_MINUTES:
            warnings.warn(
                f"max_duration_minutes={max_duration_minutes} is above the maximum of "
                f"{MAX_DURATION_MINUTES} (7 days); using {MAX_DURATION_MINUTES}.",
                UserWarning,
                stacklevel=2,
            )
            max_duration_minutes = MAX_DURATION_MINUTES
        if policy is None:
            policy = NoTerminationPolicy()
        if not isinstance(policy, Policy):
            raise HyperDriveConfigException(
                f"policy must be an early-termination policy (BanditPolicy...), got {policy!r}."
            )
        hyperparameter_sampling.check_config(policy, max_total_runs, max_concurrent_runs)

        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = goal
        self.max_total_runs = max_total_runs
        self.max_concurrent_runs = max_concurrent_runs
        self.max_duration_minutes = max_duration_minutes
        self.policy = policy
        self.estimator = estimator
        self.run_config = run_config
        self.debug_flag = debug_flag
        self.resume_from = self._check_resume_from(resume_from)
        self.resume_child_runs = self._check_resume_child_runs(resume_child_runs)
        self._warn_overridden_script_params()

    # -- validation helpers -----------------------------------------------------------
    def _check_resume_from(self, resume_from: Any) -> list[Any]:
        parents = _as_list("resume_from", resume_from)
        if len(parents) > MAX_RESUME_FROM:
            raise HyperDriveConfigException(
                f"resume_from takes at most {MAX_RESUME_FROM} HyperDrive runs, got {len(parents)}."
            )
        total = self.max_total_runs
        for parent in parents:
            status = _status(parent)
            if status is not None and status not in _TERMINAL:
                raise HyperDriveConfigException(
                    f"resume_from run {getattr(parent, 'id', parent)!r} is {status}; it must be "
                    "Completed or Canceled. Wait for it, or cancel it first."
                )
            config = getattr(parent, "hyperdrive_config", None)
            if config is None:
                continue
            if (config.primary_metric_name, config.primary_metric_goal) != (
                self.primary_metric_name,
                self.primary_metric_goal,
            ):
                raise HyperDriveConfigException(
                    f"resume_from run {getattr(parent, 'id', parent)!r} optimised "
                    f"{config.primary_metric_name!r} ({config.primary_metric_goal.name}); this "
                    f"sweep optimises {self.primary_metric_name!r} "
                    f"({self.primary_metric_goal.name}). They must be the same."
                )
            if isinstance(self.hyperparameter_sampling, BayesianParameterSampling) and (
                config.hyperparameter_sampling.parameter_space
                != self.hyperparameter_sampling.parameter_space
            ):
                raise HyperDriveConfigException(
                    f"Bayesian sampling can resume only from a run with the same parameter "
                    f"space; {getattr(parent, 'id', parent)!r} has another."
                )
            total += config.max_total_runs
        if total > MAX_TOTAL_RUNS:
            raise HyperDriveConfigException(
                f"max_total_runs of this sweep and of its resume_from runs add up to {total}; "
                f"the limit is {MAX_TOTAL_RUNS}."
            )
        return parents

    def _check_resume_child_runs(self, resume_child_runs: Any) -> list[Any]:
        children = _as_list("resume_child_runs", resume_child_runs)
        if len(children) > self.max_total_runs:
            raise HyperDriveConfigException(
                f"resume_child_runs has {len(children)} runs, more than max_total_runs "
                f"({self.max_total_runs})."
            )
        ids = [getattr(child, "id", child) for child in children]
        if len(set(ids)) != len(ids):
            raise HyperDriveConfigException("resume_child_runs lists the same run twice.")
        parents = set()
        for child, run_id in zip(children, ids, strict=True):
            status = _status(child)
            if status is not None and status not in ("Completed", "Canceled", "Failed"):
                raise HyperDriveConfigException(
                    f"resume_child_runs run {run_id!r} is {status}; it must have ended."
                )
            if hasattr(child, "parent"):
                parent = child.parent
                if parent is None:
                    raise HyperDriveConfigException(
                        f"resume_child_runs run {run_id!r} has no parent HyperDrive run."
                    )
                parents.add(getattr(parent, "id", parent))
        if len(parents) > MAX_RESUME_PARENTS:
            raise HyperDriveConfigException(
                f"resume_child_runs come from {len(parents)} HyperDrive runs; the limit is "
                f"{MAX_RESUME_PARENTS}."
            )
        return children

    def _warn_overridden_script_params(self) -> None:
        params = getattr(self.estimator, "script_params", None) or {}
        space = {name.lstrip("-") for name in self.hyperparameter_sampling.parameter_space}
        overridden = sorted(name for name in params if str(name).lstrip("-") in space)
        if overridden:
            warnings.warn(
                "The hyperparameter sampling overrides these estimator script_params: "
                f"{', '.join(overridden)}.",
                UserWarning,
                stacklevel=3,
            )

    def _submit(self, experiment: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """What ``experiment.submit(hdc)`` calls: start the sweep, return its HyperDriveRun
        (see :mod:`runyard.train.hyperdrive.submission`)."""
        from runyard.train.hyperdrive.submission import submit_hyperdrive

        return submit_hyperdrive(self, experiment, tags=tags, **kwargs)

    # -- outputs -----------------------------------------------------------------------
    @property
    def source_directory(self) -> str:
        """The folder of the estimator or ScriptRunConfig that children run."""
        target = self.estimator if self.estimator is not None else self.run_config
        return str(target.source_directory)

    def to_tuning_spec(self) -> TuningSpec:
        """The tuning engine's specification of this sweep."""
        sampling = self.hyperparameter_sampling
        return TuningSpec(
            space=sampling.parameter_space,
            sampler=sampling.engine_sampler,
            primary_metric_name=self.primary_metric_name,
            goal=Goal.parse(self.primary_metric_goal.value),
            max_total_runs=self.max_total_runs,
            max_concurrent_runs=self.max_concurrent_runs,
            max_duration_minutes=self.max_duration_minutes,
            policy=self.policy,
            seed=sampling.seed,
        )

    def parent_tags(self) -> dict[str, str]:
        """The v1 tags the parent run keeps (JSON strings), from which a HyperDriveRun is
        rehydrated: ``generator_config``, ``primary_metric_config``, ``max_total_jobs``,
        ``max_concurrent_jobs``, ``max_duration_minutes``, ``policy_config``."""
        return {
            "generator_config": json.dumps(self.hyperparameter_sampling.to_json()),
            "primary_metric_config": json.dumps(
                {
                    "name": self.primary_metric_name,
                    "goal": self.primary_metric_goal.name.lower(),
                }
            ),
            "max_total_jobs": json.dumps(self.max_total_runs),
            "max_concurrent_jobs": json.dumps(self.max_concurrent_runs),
            "max_duration_minutes": json.dumps(self.max_duration_minutes),
            "policy_config": json.dumps(self.policy.to_json()),
        }


class HyperDriveRunConfig(HyperDriveConfig):
    """The old name of :class:`HyperDriveConfig`, with its old signature (estimator first)."""

    def __init__(
        self,
        estimator: Any,
        hyperparameter_sampling: HyperParameterSampling,
        primary_metric_name: str,
        primary_metric_goal: PrimaryMetricGoal | str,
        max_total_runs: int,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: int = MAX_DURATION_MINUTES,
        policy: Policy | None = None,
    ) -> None:
        super().__init__(
            hyperparameter_sampling=hyperparameter_sampling,
            primary_metric_name=primary_metric_name,
            primary_metric_goal=primary_metric_goal,
            max_total_runs=max_total_runs,
            max_concurrent_runs=max_concurrent_runs,
            max_duration_minutes=max_duration_minutes,
            policy=policy,
            estimator=estimator,
        )

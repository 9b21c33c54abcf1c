"""SDK v1's hyperparameter sampling classes, plus Runyard's ``OptunaParameterSampling``.

==============================  ==============  ================================================
class                           v1 name (JSON)  engine sampler (:mod:`runyard.tuning.samplers`)
==============================  ==============  ================================================
RandomParameterSampling         ``RANDOM``      ``random`` (pure Python, v1's formulas)
GridParameterSampling           ``GRID``        ``grid`` (``choice`` only; Cartesian product)
BayesianParameterSampling       ``Bayesian``    ``bayesian`` (Optuna's TPE; ``runyard[tune]``)
                                ``Optimization``
OptunaParameterSampling         ``OPTUNA``      ``optuna:<name>``: tpe, gp, cmaes, qmc, random
==============================  ==============  ================================================

``seed`` is a Runyard addition on every class (v1 has no documented seed): the same seed
gives the same trials. Without one, the study picks a seed and records it.

Early termination: as in v1, ``BayesianParameterSampling`` refuses any policy but
``NoTerminationPolicy`` (``HyperDriveScenarioNotSupportedException``), so v1 code behaves
as it did. Beyond v1, ``OptunaParameterSampling`` accepts every policy: trials the policy
stops are told to the sampler as pruned. Choosing that class is the opt-in.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from runyard.errors import InvalidArgument
from runyard.train.hyperdrive.exceptions import HyperDriveScenarioNotSupportedException
from runyard.tuning.policies import NoTerminationPolicy, Policy
from runyard.tuning.rules import check_bayesian_space, check_grid_space
from runyard.tuning.samplers import OPTUNA_SAMPLERS
from runyard.tuning.space import Expression, check_space, space_to_json

# v1's Bayesian guidance: enough runs for the model, few enough at once for it to learn.
BAYESIAN_RUNS_PER_PARAMETER = 20
BAYESIAN_MAX_CONCURRENT = 20


class HyperParameterSampling:
    """Base of the sampling classes: a parameter space and how to sample it.

    Args:
        parameter_space: parameter name (the script's flag, e.g. ``"--batch-size"``) ->
            expression (``choice(...)``, ``loguniform(...)``...).
        properties: extra algorithm properties, kept in the JSON form.
        seed: the sampler's seed (Runyard addition).

    Raises:
        InvalidArgument: the space is empty, or a value is not an expression.
    """

    SAMPLING_NAME = ""
    _engine_name = ""

    def __init__(
        self,
        parameter_space: Mapping[str, Expression],
        properties: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InvalidArgument(f"seed must be an int or None, got {seed!r}.")
        self._parameter_space = check_space(parameter_space)
        self._properties = dict(properties or {})
        self.seed = seed

    @property
    def parameter_space(self) -> dict[str, Expression]:
        """The parameter space (a copy)."""
        return dict(self._parameter_space)

    @property
    def sampling_name(self) -> str:
        """v1's name of the algorithm (``RANDOM``, ``GRID``, ``BayesianOptimization``)."""
        return self.SAMPLING_NAME

    @property
    def engine_sampler(self) -> str:
        """The tuning engine's name of the sampler."""
        return self._engine_name

    def to_json(self) -> dict[str, Any]:
        """v1's JSON form: ``{"name", "parameter_space", "properties"}``."""
        properties = dict(self._properties)
        if self.seed is not None:
            properties["seed"] = self.seed
        return {
            "name": self.SAMPLING_NAME,
            "parameter_space": space_to_json(self._parameter_space),
            "properties": properties or None,
        }

    def check_config(self, policy: Policy, max_total_runs: int, max_concurrent_runs: int) -> None:
        """Check the sweep's other settings against this sampler (HyperDriveConfig calls
        it); the base accepts everything."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({space_to_json(self._parameter_space)!r})"


class RandomParameterSampling(HyperParameterSampling):
    """Random sampling of every expression, with v1's formulas; supports early termination."""

    SAMPLING_NAME = "RANDOM"
    _engine_name = "random"


class GridParameterSampling(HyperParameterSampling):
    """Every combination of the ``choice`` values; a grid smaller than ``max_total_runs``
    makes fewer runs.

    Raises:
        InvalidArgument: an expression is not ``choice``, a value is not an int, float or
            str, or a parameter mixes strings with numbers.
    """

    SAMPLING_NAME = "GRID"
    _engine_name = "grid"

    def __init__(self, parameter_space: Mapping[str, Expression], seed: int | None = None) -> None:
        super().__init__(parameter_space, seed=seed)
        check_grid_space(self._parameter_space)


class BayesianParameterSampling(HyperParameterSampling):
    """Bayesian optimisation (Optuna's TPE) over ``choice``, ``uniform`` and ``quniform``.

    As in v1: no early-termination policy; a warning when ``max_total_runs`` is below 20
    per parameter or ``max_concurrent_runs`` above 20. Needs ``pip install 'runyard[tune]'``.

    Raises:
        InvalidArgument: another expression, or a quniform with non-int arguments or more
            than 100,000 values.
    """

    SAMPLING_NAME = "BayesianOptimization"
    _engine_name = "bayesian"

    def __init__(self, parameter_space: Mapping[str, Expression], seed: int | None = None) -> None:
        super().__init__(parameter_space, seed=seed)
        check_bayesian_space(self._parameter_space)

    def check_config(self, policy: Policy, max_total_runs: int, max_concurrent_runs: int) -> None:
        if not isinstance(policy, NoTerminationPolicy):
            raise HyperDriveScenarioNotSupportedException(
                f"Bayesian sampling does not support early termination (got {policy.name}): "
                "use policy=None, or OptunaParameterSampling(space, sampler='tpe') to combine "
                "TPE with an early-termination policy."
            )
        wanted = BAYESIAN_RUNS_PER_PARAMETER * len(self._parameter_space)
        if max_total_runs < wanted:
            warnings.warn(
                f"For best results with Bayesian sampling, max_total_runs should be at least "
                f"{wanted} (20 x {len(self._parameter_space)} parameters); it is "
                f"{max_total_runs}.",
                UserWarning,
                stacklevel=3,
            )
        if max_concurrent_runs > BAYESIAN_MAX_CONCURRENT:
            warnings.warn(
                f"Bayesian sampling learns from finished runs; with max_concurrent_runs="
                f"{max_concurrent_runs} (> {BAYESIAN_MAX_CONCURRENT}) many runs start before "
                "it can learn.",
                UserWarning,
                stacklevel=3,
            )


class OptunaParameterSampling(HyperParameterSampling):
    """One of Optuna's samplers over any expression (Runyard addition, beyond v1).

    Args:
        parameter_space: as for the other classes; every expression is allowed.
        sampler: ``"tpe"`` (default), ``"gp"`` (needs torch and scipy), ``"cmaes"`` (needs
            cmaes), ``"qmc"`` (needs scipy) or ``"random"``.
        seed: the sampler's seed.

    Early-termination policies are allowed: stopped trials are told to the sampler as
    pruned. Needs ``pip install 'runyard[tune]'``.

    Raises:
        InvalidArgument: an unknown sampler name.
    """

    SAMPLING_NAME = "OPTUNA"

    def __init__(
        self,
        parameter_space: Mapping[str, Expression],
        sampler: str = "tpe",
        seed: int | None = None,
    ) -> None:
        if sampler not in OPTUNA_SAMPLERS:
            raise InvalidArgument(
                f"Unknown Optuna sampler {sampler!r}; known: {', '.join(OPTUNA_SAMPLERS)}."
            )
        super().__init__(parameter_space, {"sampler": sampler}, seed)
        self.sampler = sampler
        self._engine_name = f"optuna:{sampler}"

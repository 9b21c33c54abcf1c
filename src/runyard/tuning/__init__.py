"""The tuning engine: search spaces, samplers, early-termination policies and the loop.

Pure: it imports only the error tree, the entities and (lazily, in the samplers that need
it) Optuna — never the SDK, the stores or compute. ``runyard.train.hyperdrive`` puts the
SDK v1 names over it; the submission side drives :class:`TuningController` through a
:class:`TrialRunner` that starts child runs.

Modules: ``space`` (expressions), ``rules`` (which expressions grid and Bayesian accept),
``latent`` (how Optuna sees them), ``samplers``,
``policies``, ``records`` and ``study`` (typed, JSON-able state), ``loop`` (the
controller), ``export`` (to an Optuna study).
"""

from __future__ import annotations

from runyard.tuning.export import to_optuna_study
from runyard.tuning.loop import TrialRunner, TrialUpdate, TuningController
from runyard.tuning.policies import (
    BanditPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    Policy,
    TruncationSelectionPolicy,
    policy_from_json,
)
from runyard.tuning.records import Goal, Report, TrialRecord, TrialStatus, Verdict
from runyard.tuning.samplers import SAMPLER_NAMES, Sampler, make_sampler
from runyard.tuning.space import (
    Choice,
    Expression,
    LogNormal,
    LogUniform,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    RandInt,
    Uniform,
    space_from_json,
    space_to_json,
)
from runyard.tuning.study import ResumedChild, StudyState, TuningSpec

__all__ = [
    "SAMPLER_NAMES",
    "BanditPolicy",
    "Choice",
    "Expression",
    "Goal",
    "LogNormal",
    "LogUniform",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "Normal",
    "Policy",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "RandInt",
    "Report",
    "ResumedChild",
    "Sampler",
    "StudyState",
    "TrialRecord",
    "TrialRunner",
    "TrialStatus",
    "TrialUpdate",
    "TruncationSelectionPolicy",
    "TuningController",
    "TuningSpec",
    "Uniform",
    "Verdict",
    "make_sampler",
    "policy_from_json",
    "space_from_json",
    "space_to_json",
    "to_optuna_study",
]

"""HyperDrive with the SDK v1 names (``azureml.train.hyperdrive``), over :mod:`runyard.tuning`.

Example (the notebook's form)::

    from runyard.train.hyperdrive import (RandomParameterSampling, BanditPolicy,
        HyperDriveConfig, PrimaryMetricGoal, choice, loguniform)

    ps = RandomParameterSampling({"--batch-size": choice(25, 50, 100),
                                  "--learning-rate": loguniform(-6, -1)})
    hdc = HyperDriveConfig(run_config=src, hyperparameter_sampling=ps,
                           policy=BanditPolicy(evaluation_interval=2, slack_factor=0.1),
                           primary_metric_name="Accuracy",
                           primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                           max_total_runs=20, max_concurrent_runs=4)

Importing this package does not import Optuna; Bayesian and Optuna sampling load it when
a sweep samples (``pip install 'runyard[tune]'``).
"""

from __future__ import annotations

from runyard.train.hyperdrive.exceptions import (
    HyperDriveConfigException,
    HyperDriveScenarioNotSupportedException,
)
from runyard.train.hyperdrive.parameter_expressions import (
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from runyard.train.hyperdrive.policy import (
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
)
from runyard.train.hyperdrive.run import HyperDriveRun
from runyard.train.hyperdrive.runconfig import (
    HyperDriveConfig,
    HyperDriveRunConfig,
    PrimaryMetricGoal,
)
from runyard.train.hyperdrive.sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    HyperParameterSampling,
    OptunaParameterSampling,
    RandomParameterSampling,
)

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "EarlyTerminationPolicy",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveConfigException",
    "HyperDriveRun",
    "HyperDriveRunConfig",
    "HyperDriveScenarioNotSupportedException",
    "HyperParameterSampling",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "OptunaParameterSampling",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]

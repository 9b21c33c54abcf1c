"""The SDK-v1-shaped front of Runyard: ``from runyard.core import Workspace, Experiment, Run``.

Names are imported on first use so that ``import runyard.core`` stays cheap at the top of
every training script.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runyard import __version__

#: The SDK's version (SDK v1 code prints ``azureml.core.VERSION``).
VERSION = __version__

if TYPE_CHECKING:
    from runyard.core.compute_target import ComputeTarget
    from runyard.core.dataset import Dataset
    from runyard.core.datastore import Datastore
    from runyard.core.environment import Environment
    from runyard.core.experiment import Experiment
    from runyard.core.model import Model
    from runyard.core.run import Run
    from runyard.core.script_run_config import ScriptRunConfig
    from runyard.core.webservice import Webservice
    from runyard.core.workspace import Workspace

_LAZY = {
    "ComputeTarget": "runyard.core.compute_target",
    "Workspace": "runyard.core.workspace",
    "Experiment": "runyard.core.experiment",
    "Run": "runyard.core.run",
    "Model": "runyard.core.model",
    "Dataset": "runyard.core.dataset",
    "Datastore": "runyard.core.datastore",
    "Environment": "runyard.core.environment",
    "ScriptRunConfig": "runyard.core.script_run_config",
    "Webservice": "runyard.core.webservice",
}

__all__ = [
    "VERSION",
    "ComputeTarget",
    "Dataset",
    "Datastore",
    "Environment",
    "Experiment",
    "Model",
    "Run",
    "ScriptRunConfig",
    "Webservice",
    "Workspace",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

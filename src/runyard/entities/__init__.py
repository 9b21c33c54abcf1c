"""Plain data: what Runyard stores, with the rules that hold whatever the store.

Entities import nothing from the rest of the package but the error tree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.entities.datastore import DatastoreRecord
    from runyard.entities.environment import EnvironmentRecord
    from runyard.entities.experiment import ExperimentRecord
    from runyard.entities.metric import MetricKind, MetricPage, MetricRecord, MetricSeries
    from runyard.entities.model import ModelRecord
    from runyard.entities.run import (
        TERMINAL_STATUSES,
        RunPage,
        RunRecord,
        RunStatus,
        StatusChange,
        can_transition,
    )

# Names load on first use, so importing one entity module does not import them all.
_LAZY = {
    "ComputeTargetRecord": "runyard.entities.compute",
    "DatastoreRecord": "runyard.entities.datastore",
    "EnvironmentRecord": "runyard.entities.environment",
    "ExperimentRecord": "runyard.entities.experiment",
    "MetricKind": "runyard.entities.metric",
    "MetricPage": "runyard.entities.metric",
    "MetricRecord": "runyard.entities.metric",
    "MetricSeries": "runyard.entities.metric",
    "ModelRecord": "runyard.entities.model",
    "RunPage": "runyard.entities.run",
    "RunRecord": "runyard.entities.run",
    "RunStatus": "runyard.entities.run",
    "StatusChange": "runyard.entities.run",
    "TERMINAL_STATUSES": "runyard.entities.run",
    "can_transition": "runyard.entities.run",
}

__all__ = [
    "TERMINAL_STATUSES",
    "ComputeTargetRecord",
    "DatastoreRecord",
    "EnvironmentRecord",
    "ExperimentRecord",
    "MetricKind",
    "MetricPage",
    "MetricRecord",
    "MetricSeries",
    "ModelRecord",
    "RunPage",
    "RunRecord",
    "RunStatus",
    "StatusChange",
    "can_transition",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard.entities' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

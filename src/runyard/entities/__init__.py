"""Plain data: what Runyard stores, with the rules that hold whatever the store.

Entities import nothing from the rest of the package but the error tree.
"""

from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.datastore import DatastoreRecord
from runyard.entities.environment import EnvironmentRecord
from runyard.entities.experiment import ExperimentRecord
from runyard.entities.metric import MetricKind, MetricRecord
from runyard.entities.model import ModelRecord
from runyard.entities.run import TERMINAL_STATUSES, RunRecord, RunStatus, can_transition

__all__ = [
    "TERMINAL_STATUSES",
    "ComputeTargetRecord",
    "DatastoreRecord",
    "EnvironmentRecord",
    "ExperimentRecord",
    "MetricKind",
    "MetricRecord",
    "ModelRecord",
    "RunRecord",
    "RunStatus",
    "can_transition",
]

"""The capabilities a tracking backend provides, one small abstract port each.

``runyard.tracking.store.TrackingStore`` is their composition. A new capability (web
services, tuning, tokens) adds a port here and a base to ``TrackingStore``, rather than
growing one class.
"""

from runyard.tracking.ports.catalogue import CatalogueStore
from runyard.tracking.ports.datasets import DatasetRegistryStore
from runyard.tracking.ports.experiments import ExperimentStore
from runyard.tracking.ports.metrics import MetricStore
from runyard.tracking.ports.models import ModelRegistryStore
from runyard.tracking.ports.runs import RunStore
from runyard.tracking.ports.search import RunSearchStore
from runyard.tracking.ports.services import ServiceStore

__all__ = [
    "CatalogueStore",
    "DatasetRegistryStore",
    "ExperimentStore",
    "MetricStore",
    "ModelRegistryStore",
    "RunSearchStore",
    "RunStore",
    "ServiceStore",
]

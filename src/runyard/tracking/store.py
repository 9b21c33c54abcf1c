"""The TrackingStore port: what every run-history backend provides.

``TrackingStore`` is the composition of small per-capability ports (``tracking/ports/``):
experiments, runs, run search, metrics, the model registry, the workspace catalogue and web
services. Each port's contract is written in its class docstring and checked by
``tests/contract/`` on every adapter. What holds for all of them:

- Names are validated by the caller (``runyard.entities.validation``); the store checks
  existence and state and raises ``NotFound``, ``AlreadyExists`` or ``InvalidState``.
- Every method is safe to call from several threads; ``close()`` releases connections.
"""

from __future__ import annotations

from runyard.tracking.ports import (
    CatalogueStore,
    DatasetRegistryStore,
    ExperimentStore,
    MetricStore,
    ModelRegistryStore,
    RunSearchStore,
    RunStore,
    ServiceStore,
)


class TrackingStore(
    ExperimentStore,
    RunStore,
    RunSearchStore,
    MetricStore,
    ModelRegistryStore,
    CatalogueStore,
    DatasetRegistryStore,
    ServiceStore,
):
    """Run history, model registry, dataset registry, workspace catalogue (datastores,
    targets, environments) and web services of one workspace."""

    def close(self) -> None:  # optional: adapters without resources keep this no-op
        """Release connections."""


__all__ = [
    "CatalogueStore",
    "DatasetRegistryStore",
    "ExperimentStore",
    "MetricStore",
    "ModelRegistryStore",
    "RunSearchStore",
    "RunStore",
    "ServiceStore",
    "TrackingStore",
]

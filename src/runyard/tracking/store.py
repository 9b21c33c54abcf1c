"""The TrackingStore port: what every run-history backend provides.

``TrackingStore`` is the composition of small per-capability ports (``tracking/ports/``):
experiments, runs, metrics, the model registry and the workspace catalogue. Each port's
contract is written in its class docstring and checked by ``tests/contract/`` on every
adapter. What holds for all of them:

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
    RunStore,
)


class TrackingStore(
    ExperimentStore,
    RunStore,
    MetricStore,
    ModelRegistryStore,
    CatalogueStore,
    DatasetRegistryStore,
):
    """Run history, model registry, dataset registry and workspace catalogue
    (datastores, targets, environments) of one workspace."""

    def close(self) -> None:  # optional: adapters without resources keep this no-op
        """Release connections."""


__all__ = [
    "CatalogueStore",
    "DatasetRegistryStore",
    "ExperimentStore",
    "MetricStore",
    "ModelRegistryStore",
    "RunStore",
    "TrackingStore",
]

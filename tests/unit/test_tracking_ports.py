"""The TrackingStore port is the composition of small per-capability ports."""

from __future__ import annotations

import subprocess
import sys

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
from runyard.tracking.store import TrackingStore

PORTS = (
    ExperimentStore,
    RunStore,
    RunSearchStore,
    MetricStore,
    ModelRegistryStore,
    CatalogueStore,
    ServiceStore,
    DatasetRegistryStore,
)


def test_every_tracking_store_method_comes_from_exactly_one_capability_port():
    owners = {
        name: [port.__name__ for port in PORTS if name in port.__abstractmethods__]
        for name in TrackingStore.__abstractmethods__
    }
    assert {name: found for name, found in owners.items() if len(found) != 1} == {}
    assert set(TrackingStore.__mro__) >= set(PORTS)


def test_importing_the_tracking_port_does_not_import_sqlalchemy():
    code = "import sys, runyard.tracking.store; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

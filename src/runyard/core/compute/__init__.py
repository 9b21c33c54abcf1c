"""Compute targets with the SDK v1 names: ``from runyard.core.compute import ComputeTarget,
AmlCompute``.

Names are imported on first use, so that importing this package never loads a backend.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ComputeTarget": "runyard.core.compute_target",
    "ComputeTargetException": "runyard.core.compute_target",
    "LocalCompute": "runyard.core.compute_target",
    "ClusterCompute": "runyard.core.compute.cluster",
    "AmlCompute": "runyard.core.compute.cluster",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard.core.compute' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Artifact storage: run files, logs, snapshots, models and datastores, on any fsspec URL.

Names load on first use: the training-script path imports ``artifacts.paths`` only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.artifacts.paths import check_relpath, join_safe
    from runyard.artifacts.store import ArtifactStore, FsspecArtifactStore

_LAZY = {
    "ArtifactStore": "runyard.artifacts.store",
    "FsspecArtifactStore": "runyard.artifacts.store",
    "check_relpath": "runyard.artifacts.paths",
    "join_safe": "runyard.artifacts.paths",
}

__all__ = ["ArtifactStore", "FsspecArtifactStore", "check_relpath", "join_safe"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard.artifacts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

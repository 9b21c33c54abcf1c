"""Which SDK class a run of a given type is read back as: a lazy map from the run type.

SDK v1 rehydrates a run as the class of its run type (``Run.get(ws, id)`` of a HyperDrive
run is a ``HyperDriveRun``), through type providers that the packages above the core
declare. Here the map is one immutable table of dotted class paths, imported only when a
run of that type is read, so ``runyard.core`` never imports the packages above it (nor
pays for them in a training script); a type without an entry, or whose class cannot be
imported, is read as a plain :class:`~runyard.core.run.Run`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runyard.core.run import Run

#: run type -> (module, class): the SDK classes defined above the core.
RUN_CLASSES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"hyperdrive": ("runyard.train.hyperdrive.run", "HyperDriveRun")}
)


def run_class(run_type: str, default: type[Run]) -> type[Run]:
    """The class runs of type ``run_type`` are read as (``default`` when none is known or
    its package is not importable)."""
    entry = RUN_CLASSES.get(run_type)
    if entry is None:
        return default
    module_name, class_name = entry
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return default
    return found if isinstance(found, type) and issubclass(found, default) else default

"""Which ComputeBackend carries a compute target's runs: a lazy map from the target's kind.

Backends are imported only when a target of their kind is used, so ``import runyard`` never
loads Ray. A backend is built from ``(resources, record)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from runyard.errors import InvalidArgument, missing_extra

if TYPE_CHECKING:
    from runyard.compute.backend import ComputeBackend
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.resources import WorkspaceResources

#: kind -> (module, class, (module a missing import means, extra that installs it)).
BACKENDS: dict[str, tuple[str, str, tuple[str, str] | None]] = {
    "local": ("runyard.compute.local", "LocalComputeBackend", None),
    "cluster": ("runyard.compute.ray", "RayComputeBackend", ("ray", "ray")),
    "ray": ("runyard.compute.ray", "RayComputeBackend", ("ray", "ray")),
}


def backend_for(resources: WorkspaceResources, record: ComputeTargetRecord) -> ComputeBackend:
    """The backend of the target ``record`` describes.

    A team server's workspace (its config names ``server``) gets
    :class:`runyard.compute.remote.ServerComputeBackend` whatever the kind: the server
    places its runs.

    Raises:
        InvalidArgument: the target's kind is unknown (the message lists the known kinds).
        MissingDependency: the backend needs an extra that is not installed.
    """
    if resources.config.server:
        from runyard.compute.remote import ServerComputeBackend

        return ServerComputeBackend(resources, record)
    entry = BACKENDS.get(record.kind)
    if entry is None:
        known = ", ".join(sorted(BACKENDS))
        raise InvalidArgument(
            f"Compute target {record.name!r} has kind {record.kind!r}, which this Runyard "
            f"does not know. Known kinds: {known}."
        )
    module_name, class_name, extra = entry
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if extra is not None and exc.name and exc.name.split(".")[0] == extra[0]:
            raise missing_extra(*extra) from exc
        raise
    cls = getattr(module, class_name, None)
    if cls is None:
        raise InvalidArgument(
            f"Compute targets of kind {record.kind!r} are not available in this Runyard "
            f"({module_name} has no {class_name})."
        )
    backend: ComputeBackend = cls(resources, record)
    return backend

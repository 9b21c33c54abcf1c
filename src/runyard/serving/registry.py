"""The serving backend of a workspace, imported on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources
    from runyard.serving.local.backend import LocalServingBackend


def local_backend(resources: WorkspaceResources) -> LocalServingBackend:
    """The backend that serves ``resources``' web services on this machine.

    Every service without a compute target (``Local`` and ``ACI``) runs here: one scoring
    server per service, on 127.0.0.1.
    """
    from runyard.serving.local.backend import LocalServingBackend

    return LocalServingBackend(resources)


def ray_backend(
    resources: WorkspaceResources, dashboard: str, token: str | None, shared: bool = True
) -> Any:
    """The backend that serves ``resources``' services on a compute target as Ray Serve
    applications on the cluster whose dashboard is ``dashboard`` (``shared``: its nodes
    read this machine's folders)."""
    from runyard.serving.ray.backend import RayServeBackend

    return RayServeBackend(resources, dashboard, token, shared)

"""What routes take from the app: the stores of the workspace a path names.

Routes of one workspace live under ``/api/v1/workspaces/{workspace}/...`` and take
``Depends(workspace_store)`` or ``Depends(workspace_artifacts)``.
"""

from __future__ import annotations

from fastapi import Request

from runyard.artifacts.store import ArtifactStore
from runyard.resources import WorkspaceResources
from runyard.tracking.store import TrackingStore


def workspace_resources(workspace: str, request: Request) -> WorkspaceResources:
    """The resources of the workspace the path names (NotFound when not served)."""
    resources: WorkspaceResources = request.app.state.workspaces.get(workspace)
    return resources


def workspace_store(workspace: str, request: Request) -> TrackingStore:
    return workspace_resources(workspace, request).store


def workspace_artifacts(workspace: str, request: Request) -> ArtifactStore:
    return workspace_resources(workspace, request).artifacts

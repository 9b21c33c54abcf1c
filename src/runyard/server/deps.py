"""What routes take from the app: the stores of the workspace a path names.

Routes of one workspace live under ``/api/v1/workspaces/{workspace}/...`` and take
``Depends(workspace_store)`` or ``Depends(workspace_artifacts)``.

These dependencies are ``async``: FastAPI runs a sync dependency in its thread pool, a
thread hop on every request for what is a dictionary lookup once the workspace is open
(served workspaces are opened when the app starts; one created through the API is opened
by its first request, a one-off cost of a few milliseconds).
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.store import ArtifactStore
from runyard.errors import Forbidden
from runyard.resources import WorkspaceResources
from runyard.tracking.store import TrackingStore


async def workspace_resources(workspace: str, request: Request) -> WorkspaceResources:
    """The resources of the workspace the path names (NotFound when not served)."""
    resources: WorkspaceResources = request.app.state.workspaces.get(workspace)
    return resources


async def workspace_store(workspace: str, request: Request) -> TrackingStore:
    resources: WorkspaceResources = request.app.state.workspaces.get(workspace)
    return resources.store


async def workspace_artifacts(workspace: str, request: Request) -> ArtifactStore:
    """The workspace's files; on the ``/datastores/{datastore}/files`` routes, that
    datastore's (NotFound when it is not registered).

    Raises:
        Forbidden: a run's token writing a datastore (routes declare their role before
            this dependency, so the caller is known here).
    """
    resources: WorkspaceResources = request.app.state.workspaces.get(workspace)
    datastore = request.path_params.get("datastore")
    if datastore is None:
        return resources.artifacts
    credential = getattr(request.state, "credential", None)
    scope = credential.token.run_scope if credential is not None else None
    if scope is not None and request.method not in ("GET", "HEAD"):
        # A run writes its own files; a datastore is shared by every run of the team.
        raise Forbidden(
            f"Run {scope.run_id}'s token may read datastore {datastore!r}, not change it. "
            "Write the run's results to ./outputs (uploaded with the run) instead."
        )
    store: ArtifactStore = await run_in_threadpool(resources.datastore_files, datastore)
    return store

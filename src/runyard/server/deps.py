"""What routes take from the app: the stores of the workspace a path names.

Routes of one workspace live under ``/api/v1/workspaces/{workspace}/...`` and take
``Depends(workspace_store)`` or ``Depends(workspace_artifacts)``.

These dependencies are ``async``: FastAPI runs a sync dependency in its thread pool, a
thread hop on every request for what is a dictionary lookup once the workspace is open
(served workspaces are opened when the app starts; one created through the API is opened
by its first request, a one-off cost of a few milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.store import ArtifactStore
from runyard.errors import Forbidden
from runyard.resources import WorkspaceResources
from runyard.tracking.store import TrackingStore

T = TypeVar("T")


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


@dataclass(frozen=True)
class StoreCalls:
    """A workspace's tracking store, and where the hot routes (get a run, log a batch,
    create and complete a run) call it.

    Attributes:
        store: the workspace's tracking store.
        inline: call it on the event loop rather than in the thread pool. True for a
            SQLite database: one of these calls costs 0.1-0.3 ms of CPU under the GIL, and
            the hop into the pool and back about as much again (measured in process: a get
            of a run 0.65 ms of CPU with the hop, 0.37 ms without), so the hop only adds
            latency. Waits stay short: in WAL mode readers never wait, and a writer waits
            only for another process's write transaction, which these routes keep small.
            False for PostgreSQL, where every statement is a network round trip that
            other requests should not wait behind.
    """

    store: TrackingStore
    inline: bool

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, inline or in the thread pool as :attr:`inline` says."""
        if self.inline:
            return fn(*args)
        return await run_in_threadpool(fn, *args)

    async def pooled(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the thread pool (for work too large to run on the loop)."""
        return await run_in_threadpool(fn, *args)


async def store_calls(workspace: str, request: Request) -> StoreCalls:
    """The path's workspace store and how to call it (see :class:`StoreCalls`)."""
    calls: StoreCalls = request.app.state.workspaces.calls(workspace)
    return calls

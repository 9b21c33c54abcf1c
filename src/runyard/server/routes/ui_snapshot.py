"""A run's snapshot for the web UI: the files of the source folder it was submitted with
(its manifest's list) and one file's download or inline preview. Read-only.

Only the files the run's own snapshot lists are served: a run id gives access to its
snapshot, never to another one stored in the workspace.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from runyard.artifacts.paths import check_relpath
from runyard.artifacts.snapshots import SNAPSHOTS_PREFIX, read_manifest
from runyard.artifacts.store import ArtifactStore
from runyard.errors import NotFound
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_artifacts, workspace_store
from runyard.server.routes.ui_files import file_response
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}/ui/runs/{run_id}/snapshot", tags=["ui"])


def _snapshot(store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> dict[str, Any]:
    """The manifest of the run's snapshot (NotFound, saying why, when it has none)."""
    definition = store.get_run(run_id).details.get("runDefinition") or {}
    snapshot_id = definition.get("snapshotId") if isinstance(definition, dict) else None
    if not isinstance(snapshot_id, str) or not snapshot_id:
        raise NotFound(
            f"Run {run_id!r} has no snapshot: only submitted runs (ScriptRunConfig, "
            "HyperDrive children) keep their source folder."
        )
    return read_manifest(artifacts, snapshot_id)


@router.get("")
def snapshot_files(
    run_id: str,
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """The run's snapshot id and its files (relative paths and sizes), by path."""
    manifest = _snapshot(store, artifacts, run_id)
    files = sorted(
        ({"name": str(f["path"]), "size": int(f["size"])} for f in manifest["files"]),
        key=lambda f: str(f["name"]),
    )
    return {"snapshot_id": manifest["snapshot_id"], "files": files}


@router.get("/{name:path}")
def snapshot_file(
    run_id: str,
    name: str,
    download: bool = False,
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> Response:
    """One file of the run's snapshot: inline (text, images, JSON) or, with
    ``download``, as an attachment."""
    manifest = _snapshot(store, artifacts, run_id)
    snapshot_id = str(manifest["snapshot_id"])
    if name not in {str(f["path"]) for f in manifest["files"]}:
        raise NotFound(f"The snapshot of run {run_id!r} has no file {name!r}.")
    # The manifest's paths were checked when it was written; checked again since a stored
    # manifest could have been edited.
    key = f"{SNAPSHOTS_PREFIX}/{check_relpath(snapshot_id)}/files/{check_relpath(name)}"
    return file_response(artifacts, key, name, download=download)

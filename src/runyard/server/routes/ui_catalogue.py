"""The workspace's registered models, web services and compute targets as the web UI's
pages list them (keys of services are never sent). Read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from runyard.artifacts.store import ArtifactStore
from runyard.entities.run import TERMINAL_STATUSES, RunStatus
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_artifacts, workspace_store
from runyard.tracking.store import TrackingStore
from runyard.tracking.wire import to_wire

router = APIRouter(prefix="/workspaces/{workspace}/ui", tags=["ui"])

_ACTIVE = [s for s in RunStatus if s not in TERMINAL_STATUSES]


@router.get("/models")
def models(
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """Every registered model version, newest first, with its files."""
    found = []
    for record in store.list_models():
        entry = to_wire(record)
        entry["files"] = [
            name[len(record.artifact_path) :].lstrip("/")
            for name in artifacts.list(record.artifact_path)
        ]
        found.append(entry)
    return {"models": found}


@router.get("/models/{name}/{version}/files/{path:path}")
def model_file(
    name: str,
    version: int,
    path: str,
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> Response:
    """Download one file of a registered model version."""
    from runyard.artifacts.paths import check_relpath

    record = store.get_model(name, version)
    data = artifacts.read_bytes(f"{record.artifact_path.rstrip('/')}/{check_relpath(path)}")
    leaf = path.rsplit("/", 1)[-1]
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{leaf}"'},
    )


@router.get("/services")
def services(
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """Every web service: state, scoring URI, models, error (never its keys)."""
    found = []
    for record in store.list_services():
        entry = to_wire(record)
        entry.pop("primary_key", None)
        entry.pop("secondary_key", None)
        found.append(entry)
    return {"services": found}


@router.get("/compute")
def compute(
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """Every compute target with its queued and running runs."""
    found = []
    for record in store.list_compute_targets():
        active = store.list_runs(target=record.name, statuses=_ACTIVE, limit=200)
        entry = to_wire(record)
        entry["active_runs"] = [
            {"run_id": r.run_id, "experiment": r.experiment_name, "status": r.status.value}
            for r in active
        ]
        found.append(entry)
    return {"targets": found}

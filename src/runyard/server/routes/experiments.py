"""``/workspaces/{workspace}/experiments``: named groups of runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from runyard.server.auth import Principal, Role, requires
from runyard.server.bodies import body_doc, field, json_body, wire
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["experiments"])


@router.get("/experiments")
def list_experiments(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Every experiment, oldest first: ``{"experiments": [...]}``."""
    return wire({"experiments": store.list_experiments()})


@router.post("/experiments", openapi_extra=body_doc("Get or create", {"name": "mnist"}))
def create_experiment(
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """The experiment called ``name``, created if there is none (safe to race)."""
    return wire(store.create_experiment(field(body, "name", str)))


@router.get("/experiments/{name}")
def get_experiment(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One experiment with its run count (404 lists the known ones)."""
    return wire(store.get_experiment(name))

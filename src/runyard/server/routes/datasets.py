"""``/workspaces/{workspace}/datasets``: the dataset registry (versions of named
datasets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from runyard.server.auth import Principal, Role, requires
from runyard.server.bodies import body_doc, field, json_body, wire
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["datasets"])

_NEW_VERSION: dict[str, Any] = {
    "kind": "file",
    "definition": {"files": []},
    "fingerprint": "sha256:...",
    "description": None,
    "tags": {},
    "create_new_version": False,
}


@router.post(
    "/datasets/{name}/versions",
    status_code=201,
    openapi_extra=body_doc("A definition to register", _NEW_VERSION),
)
def register_dataset_version(
    name: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Register the definition: version 1 of a new name, the latest version when it is
    equal to it, else the next version (409 unless ``create_new_version``)."""
    record = store.register_dataset_version(
        name,
        kind=field(body, "kind", str),
        definition=field(body, "definition", dict[str, Any]),
        fingerprint=field(body, "fingerprint", str),
        description=field(body, "description", str, None),
        tags=field(body, "tags", dict[str, str], None),
        create_new_version=field(body, "create_new_version", bool, False),
    )
    return wire(record, 201)


@router.get("/datasets")
def list_datasets(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """The latest version of each dataset, by name: ``{"datasets": [...]}``."""
    return wire({"datasets": store.list_datasets()})


@router.get("/datasets/{name}")
def get_latest_dataset(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """The latest version of ``name``."""
    return wire(store.get_dataset(name))


@router.get("/datasets/{name}/versions/{version}")
def get_dataset(
    name: str,
    version: int,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One version."""
    return wire(store.get_dataset(name, version))

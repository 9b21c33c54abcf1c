"""``/workspaces/{workspace}/{datastores,compute-targets,environments}``: the workspace's
catalogue. Reading it needs the reader role; changing it the owner role."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends, Response

from runyard.entities import ComputeTargetRecord, DatastoreRecord
from runyard.server.auth import Principal, Role, requires
from runyard.server.bodies import body_doc, field, json_body, no_content, wire
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["catalogue"])

_DATASTORE = {
    "datastore": {"name": "images", "url": "s3://bucket/images", "kind": "s3", "options": {}},
    "overwrite": False,
}
_TARGET = {
    "compute_target": {"name": "cpu", "kind": "cluster", "config": {"max_nodes": 4}},
    "overwrite": False,
}


# -- datastores ------------------------------------------------------------------------
@router.post("/datastores", openapi_extra=body_doc("A datastore to save", _DATASTORE))
def save_datastore(
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Save a datastore (409 when the name is taken, unless ``overwrite``); ``is_default``
    makes it the default."""
    record = field(body, "datastore", DatastoreRecord)
    store.save_datastore(record, overwrite=field(body, "overwrite", bool, False))
    return no_content()


@router.get("/datastores")
def list_datastores(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Every datastore, by name: ``{"datastores": [...]}``."""
    return wire({"datastores": [_for(principal, d) for d in store.list_datastores()]})


@router.get("/default-datastore")
def get_default_datastore(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """The default datastore."""
    return wire(_for(principal, store.get_datastore(None)))


@router.get("/datastores/{name}")
def get_datastore(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One datastore."""
    return wire(_for(principal, store.get_datastore(name)))


def _for(principal: Principal, record: DatastoreRecord) -> DatastoreRecord:
    """The record as ``principal`` sees it: a run's token (held by the nodes of a team
    server's runs) gets no storage options, which may hold credentials; the run reads the
    files through ``/datastores/{name}/files``."""
    if principal.run_scope is None or not record.options:
        return record
    return dataclasses.replace(record, options={})


# -- compute targets -------------------------------------------------------------------
@router.post("/compute-targets", openapi_extra=body_doc("A compute target to save", _TARGET))
def save_compute_target(
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Save a compute target (409 when the name is taken, unless ``overwrite``)."""
    record = field(body, "compute_target", ComputeTargetRecord)
    store.save_compute_target(record, overwrite=field(body, "overwrite", bool, False))
    return no_content()


@router.get("/compute-targets")
def list_compute_targets(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Every compute target, by name: ``{"compute_targets": [...]}``."""
    return wire({"compute_targets": store.list_compute_targets()})


@router.get("/compute-targets/{name}")
def get_compute_target(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One compute target."""
    return wire(store.get_compute_target(name))


@router.delete("/compute-targets/{name}", status_code=204)
def delete_compute_target(
    name: str,
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Forget a compute target."""
    store.delete_compute_target(name)
    return no_content()


# -- environments ----------------------------------------------------------------------
@router.post(
    "/environments/{name}/versions",
    status_code=201,
    openapi_extra=body_doc("An environment's spec", {"spec": {"python": {}}}),
)
def create_environment_version(
    name: str,
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Register the spec as the next version of ``name`` (the latest version, unchanged,
    when the spec equals its spec)."""
    return wire(store.create_environment_version(name, field(body, "spec", dict[str, Any])), 201)


@router.get("/environments")
def list_environments(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """The latest version of each environment: ``{"environments": [...]}``."""
    return wire({"environments": store.list_environments()})


@router.get("/environments/{name}")
def get_latest_environment(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """The latest version of ``name``."""
    return wire(store.get_environment(name))


@router.get("/environments/{name}/versions/{version}")
def get_environment(
    name: str,
    version: int,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One version."""
    return wire(store.get_environment(name, version))

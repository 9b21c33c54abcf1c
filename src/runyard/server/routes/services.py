"""``/workspaces/{workspace}/services``: the records of the workspace's web services.

A record holds the service's keys; only callers who may read the workspace read them, as
only they could deploy it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from runyard.entities.service import ServiceRecord
from runyard.errors import InvalidArgument
from runyard.server.auth import Principal, Role, requires
from runyard.server.bodies import body_doc, field, json_body, no_content, wire
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["services"])

_SERVICE = {
    "service": {"name": "mnist-svc", "compute_type": "Local", "models": ["mnist:1"]},
    "overwrite": False,
}


@router.post("/services", status_code=201, openapi_extra=body_doc("A service record", _SERVICE))
def create_service(
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Store a new service record (409 when the name is taken, unless ``overwrite``)."""
    record = field(body, "service", ServiceRecord)
    return wire(store.create_service(record, overwrite=field(body, "overwrite", bool, False)), 201)


@router.get("/services")
def list_services(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
    model_name: str | None = None,
    compute_type: str | None = None,
) -> Response:
    """Services by name, optionally those serving a model or of one compute type:
    ``{"services": [...]}``."""
    found = store.list_services(model_name=model_name, compute_type=compute_type)
    return wire({"services": found})


@router.get("/services/{name}")
def get_service(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One service record."""
    return wire(store.get_service(name))


@router.put(
    "/services/{name}", openapi_extra=body_doc("The whole record", {"service": _SERVICE["service"]})
)
def update_service(
    name: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Replace the record of ``name`` (its ``created_at`` is kept)."""
    record = field(body, "service", ServiceRecord)
    if record.name != name:
        raise InvalidArgument(f"The record is of service {record.name!r}, not {name!r}.")
    return wire(store.update_service(record))


@router.delete("/services/{name}", status_code=204)
def delete_service(
    name: str,
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Forget the service."""
    store.delete_service(name)
    return no_content()

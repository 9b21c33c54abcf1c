"""``/workspaces/{workspace}/models``: the model registry (versions of named models).

Files of a version are written through the artifact routes; a registration creates the
version ``pending`` first, uploads, then completes it, so no one sees a version without
its files.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from runyard.server.auth import Principal, Role, requires
from runyard.server.bodies import body_doc, field, filters, json_body, no_content, wire
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["models"])

_NEW_VERSION: dict[str, Any] = {
    "artifact_path_template": "models/mnist/{version}",
    "description": None,
    "tags": {"stage": "dev"},
    "properties": {},
    "framework": "TensorFlow",
    "framework_version": "2.16",
    "run_id": None,
    "experiment_name": None,
    "pending": True,
}


@router.post(
    "/models/{name}/versions",
    status_code=201,
    openapi_extra=body_doc("The next version of the model", _NEW_VERSION),
)
def create_model_version(
    name: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Register the next version of ``name`` (201); ``{version}`` in the template is
    filled in with it."""
    record = store.create_model_version(
        name,
        artifact_path_template=field(body, "artifact_path_template", str),
        description=field(body, "description", str, None),
        tags=field(body, "tags", dict[str, str], None),
        properties=field(body, "properties", dict[str, str], None),
        framework=field(body, "framework", str, None),
        framework_version=field(body, "framework_version", str, None),
        run_id=field(body, "run_id", str, None),
        experiment_name=field(body, "experiment_name", str, None),
        pending=field(body, "pending", bool, False),
    )
    return wire(record, 201)


@router.post("/models/{name}/versions/{version}/complete")
def complete_model_version(
    name: str,
    version: int,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Make a pending version visible (a visible one is answered unchanged)."""
    return wire(store.complete_model_version(name, version))


@router.post(
    "/model-versions/reap-pending",
    openapi_extra=body_doc("Age in seconds", {"older_than_s": 3600}),
)
def reap_pending_model_versions(
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Delete versions pending for longer than ``older_than_s``:
    ``{"models": [...]}`` (oldest first), so their files can be deleted."""
    return wire({"models": store.reap_pending_model_versions(field(body, "older_than_s", float))})


@router.get("/models")
def list_models(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
    name: str | None = None,
    tag: list[str] | None = Query(None, description="NAME (has it) or NAME=VALUE; repeat."),
    tags: str | None = Query(None, description="JSON object: tag name -> value or null."),
    property: list[str] | None = Query(None, description="NAME or NAME=VALUE; repeat."),
    properties: str | None = Query(None, description="JSON object: name -> value or null."),
    run_id: str | None = None,
    latest: bool = False,
) -> Response:
    """Versions matching every filter, newest first (``latest``: the newest of each
    name): ``{"models": [...]}``."""
    found = store.list_models(
        name=name,
        tags=filters(tag, tags, "tags"),
        properties=filters(property, properties, "properties"),
        run_id=run_id,
        latest=latest,
    )
    return wire({"models": found})


@router.get("/models/{name}")
def get_latest_model(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """The latest visible version of ``name``."""
    return wire(store.get_model(name))


@router.get("/models/{name}/versions/{version}")
def get_model(
    name: str,
    version: int,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """One version."""
    return wire(store.get_model(name, version))


@router.patch(
    "/models/{name}/versions/{version}",
    openapi_extra=body_doc(
        "Any of these",
        {"description": "best", "add_tags": {}, "remove_tags": [], "add_properties": {}},
    ),
)
def update_model(
    name: str,
    version: int,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Change the description and tags, add properties (a set property cannot change)."""
    record = store.update_model(
        name,
        version,
        description=field(body, "description", str, None),
        add_tags=field(body, "add_tags", dict[str, str], None),
        remove_tags=field(body, "remove_tags", list[str], None),
        add_properties=field(body, "add_properties", dict[str, str], None),
    )
    return wire(record)


@router.delete("/models/{name}/versions/{version}", status_code=204)
def delete_model(
    name: str,
    version: int,
    principal: Principal = Depends(requires(Role.OWNER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Delete a version (its number is never reused)."""
    store.delete_model(name, version)
    return no_content()

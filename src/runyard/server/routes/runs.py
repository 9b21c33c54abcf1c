"""``/workspaces/{workspace}/runs``: creating, reading, listing and changing runs.

Writes to one run check the caller's run scope (:mod:`runyard.server.auth.scope`): a
run's own token may write only that run and its descendants.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from runyard.entities import RunStatus
from runyard.errors import InvalidArgument
from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.scope import check_new_run, check_run_write
from runyard.server.bodies import body_doc, field, filters, json_body, no_content, wire
from runyard.server.deps import StoreCalls, store_calls, workspace_store
from runyard.tracking.paging import DEFAULT_PAGE_SIZE
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["runs"])

_NEW_RUN: dict[str, Any] = {
    "experiment_name": "mnist",
    "run_id": "mnist_1700000000_1a2b3c4d",
    "status": "Running",
    "display_name": None,
    "parent_run_id": None,
    "run_type": "interactive",
    "target": None,
    "tags": {},
    "properties": {},
    "details": {},
}


@router.post("/runs", status_code=201, openapi_extra=body_doc("A new run", _NEW_RUN))
async def create_run(
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    calls: StoreCalls = Depends(store_calls),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Create a run with the next number of its experiment (201 with the run)."""
    return await calls(_create_run, principal, calls.store, body)


def _create_run(principal: Principal, store: TrackingStore, body: dict[str, Any]) -> Response:
    parent = field(body, "parent_run_id", str, None)
    check_new_run(principal, store, parent)
    record = store.create_run(
        field(body, "experiment_name", str),
        run_id=field(body, "run_id", str),
        status=field(body, "status", RunStatus),
        display_name=field(body, "display_name", str, None),
        parent_run_id=parent,
        run_type=field(body, "run_type", str, "interactive"),
        target=field(body, "target", str, None),
        tags=field(body, "tags", dict[str, str], None),
        properties=field(body, "properties", dict[str, str], None),
        details=field(body, "details", dict[str, Any], None),
    )
    return wire(record, 201)


@router.get("/runs")
def list_runs(
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
    experiment: str | None = None,
    parent: str | None = None,
    status: list[str] | None = Query(None, description="A status to keep (repeat for more)."),
    tag: list[str] | None = Query(None, description="NAME (has it) or NAME=VALUE; repeat."),
    tags: str | None = Query(None, description="JSON object: tag name -> value or null."),
    target: str | None = None,
    max_results: int = DEFAULT_PAGE_SIZE,
    page_token: str | None = None,
) -> Response:
    """One page of runs matching every filter, newest first:
    ``{"runs": [...], "next_page_token": ...}`` (null on the last page)."""
    page = store.list_runs_page(
        experiment_name=experiment,
        parent_run_id=parent,
        statuses=_statuses(status),
        tags=filters(tag, tags, "tags"),
        target=target,
        max_results=max_results,
        page_token=page_token,
    )
    return wire(page)


def _statuses(values: list[str] | None) -> list[RunStatus] | None:
    if not values:
        return None
    try:
        return [RunStatus(v) for v in values]
    except ValueError as exc:
        known = ", ".join(s.value for s in RunStatus)
        raise InvalidArgument(f"{exc}. The statuses are {known}.") from exc


@router.get("/runs/{run_id}")
async def get_run(
    run_id: str,
    principal: Principal = Depends(requires(Role.READER)),
    calls: StoreCalls = Depends(store_calls),
) -> Response:
    """One run."""
    return wire(await calls(calls.store.get_run, run_id))


@router.get("/runs/{run_id}/status-history")
def get_status_history(
    run_id: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
) -> Response:
    """Every status the run entered, oldest first, with its time (the phase timeline)."""
    return wire({"history": store.get_status_history(run_id)})


@router.patch(
    "/runs/{run_id}",
    openapi_extra=body_doc(
        "Any of these", {"display_name": "best", "details": {}, "heartbeat_at": 1.7e9}
    ),
)
async def update_run(
    run_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    calls: StoreCalls = Depends(store_calls),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Change the display name, merge details (top-level keys replaced), record a
    heartbeat."""
    return await calls(_update_run, run_id, principal, calls.store, body)


def _update_run(
    run_id: str, principal: Principal, store: TrackingStore, body: dict[str, Any]
) -> Response:
    check_run_write(principal, store, run_id)
    record = store.update_run(
        run_id,
        display_name=field(body, "display_name", str, None),
        details=field(body, "details", dict[str, Any], None),
        heartbeat_at=field(body, "heartbeat_at", float, None),
    )
    return wire(record)


@router.post(
    "/runs/{run_id}/status",
    openapi_extra=body_doc(
        "The new status (compare-and-set)",
        {"status": "Completed", "error": None, "expected": ["Running"]},
    ),
)
async def set_run_status(
    run_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    calls: StoreCalls = Depends(store_calls),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Move the run to ``status`` if the move is allowed (409 naming both statuses if
    not); ``expected`` also requires the current status to be one of them."""
    return await calls(_set_run_status, run_id, principal, calls.store, body)


def _set_run_status(
    run_id: str, principal: Principal, store: TrackingStore, body: dict[str, Any]
) -> Response:
    check_run_write(principal, store, run_id)
    record = store.set_run_status(
        run_id,
        field(body, "status", RunStatus),
        error=field(body, "error", dict[str, Any], None),
        expected=field(body, "expected", list[RunStatus], None),
    )
    return wire(record)


@router.put(
    "/runs/{run_id}/tags", status_code=204, openapi_extra=body_doc("Tags", {"tags": {"a": "1"}})
)
def set_tags(
    run_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Set tags (others are kept)."""
    check_run_write(principal, store, run_id)
    store.set_tags(run_id, field(body, "tags", dict[str, str]))
    return no_content()


@router.delete("/runs/{run_id}/tags", status_code=204)
def remove_tags(
    run_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    name: list[str] = Query([], description="A tag to remove (repeat for more)."),
) -> Response:
    """Remove tags; names that are not set are ignored."""
    check_run_write(principal, store, run_id)
    store.remove_tags(run_id, name)
    return no_content()


@router.post(
    "/runs/{run_id}/properties",
    status_code=204,
    openapi_extra=body_doc("Properties", {"properties": {"azureml.runsource": "sdk"}}),
)
def add_properties(
    run_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: TrackingStore = Depends(workspace_store),
    body: dict[str, Any] = Depends(json_body),
) -> Response:
    """Add properties; a property that is set cannot change (409)."""
    check_run_write(principal, store, run_id)
    store.add_properties(run_id, field(body, "properties", dict[str, str]))
    return no_content()

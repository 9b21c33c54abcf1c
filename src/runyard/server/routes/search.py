"""``/api/v1/workspaces/{workspace}/runs/search``: the runs of an experiment filtered and
ordered by attributes, tags, properties and metric summaries, a page at a time (the web
UI's runs table). Filters and the order are the JSON of ``runyard.entities.search``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from runyard.entities.search import filter_from_json, order_from_json
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore
from runyard.tracking.wire import to_wire

router = APIRouter(tags=["runs"])


class RunSearch(BaseModel):
    """The body of a search (see ``RunSearchStore.search_runs``)."""

    experiment: str
    filters: list[Any] = Field(default_factory=list)
    order_by: Any = None
    metrics: list[str] = Field(default_factory=list)
    max_results: int = 100
    page_token: str | None = None


@router.post("/workspaces/{workspace}/runs/search")
def search_runs(
    body: RunSearch,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """One page: ``{"runs": [...], "metrics": {run_id: {name: summary}},
    "next_page_token": ...}``."""
    page = store.search_runs(
        body.experiment,
        filters=[filter_from_json(item) for item in body.filters],
        order_by=None if body.order_by is None else order_from_json(body.order_by),
        metrics=body.metrics,
        max_results=body.max_results,
        page_token=body.page_token,
    )
    wire: dict[str, Any] = to_wire(page)
    return wire

"""Metric reads for the web UI's charts and tables: downsampled scalar series of one or
many runs (refined on zoom), and a run's other metric kinds (tables, rows, images)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_store
from runyard.server.ui.database import database_of
from runyard.server.ui.records import metric_overview
from runyard.server.ui.series import read_series
from runyard.tracking.store import TrackingStore
from runyard.tracking.wire import to_wire

router = APIRouter(prefix="/workspaces/{workspace}/ui", tags=["ui"])


class SeriesBody(BaseModel):
    runs: list[str] = Field(min_length=1, max_length=200)
    names: list[str] = Field(default_factory=list)
    x: str = "step"
    x_min: float | None = None
    x_max: float | None = None
    max_points: int = Field(default=1000, ge=3, le=20000)
    after_seq: int = Field(default=0, ge=0)


@router.post("/series")
def series(
    body: SeriesBody,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """The scalar series ``names`` (all when empty) of ``runs``, each at most
    ``max_points`` points keeping every bucket's lowest and highest value, over
    ``x_min..x_max`` when given (the chart's zoom)."""
    found = read_series(
        database_of(store),
        body.runs,
        body.names,
        x_axis=body.x,  # type: ignore[arg-type]  # checked by read_series
        x_min=body.x_min,
        x_max=body.x_max,
        max_points=body.max_points,
        after_seq=body.after_seq,
    )
    return {"series": to_wire(found)}


@router.get("/runs/{run_id}/metrics")
def run_metrics(
    run_id: str,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """A run's metric names by kind, and the values of its non-scalar metrics (tables,
    rows, lists, images, text)."""
    store.get_run(run_id)  # NotFound for an unknown run
    return dict(to_wire(metric_overview(database_of(store), run_id)))

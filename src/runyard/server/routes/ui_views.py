"""Read models for the web UI's pages (``/api/v1/workspaces/{w}/ui/...``): who the caller
is, the experiments list with counts, and the sortable runs table. Read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_store
from runyard.server.ui.columns import RunFilter, parse_column
from runyard.server.ui.database import database_of
from runyard.server.ui.experiments import experiment_summaries
from runyard.server.ui.runs_table import MAX_PAGE, RunsQuery, query_runs, rows_of_runs
from runyard.tracking.store import TrackingStore
from runyard.tracking.wire import to_wire

router = APIRouter(prefix="/workspaces/{workspace}/ui", tags=["ui"])


@router.get("/me")
def me(workspace: str, principal: Principal = Depends(requires(Role.READER))) -> dict[str, Any]:
    """The caller's name and role here: the UI shows edit controls only to contributors."""
    return {
        "name": principal.name,
        "role": principal.role.name.lower(),
        "can_edit": principal.role >= Role.CONTRIBUTOR,
        "workspace": workspace,
    }


@router.get("/experiments")
def experiments(
    q: str = "",
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """Experiments (name containing ``q``) with run counts and last activity, most recent
    first."""
    return {"experiments": to_wire(experiment_summaries(database_of(store), q))}


class FilterBody(BaseModel):
    column: str
    op: str = "="
    value: str | float


class RunsQueryBody(BaseModel):
    experiment: str
    parent: str | None = None
    text: str = ""
    statuses: list[str] = Field(default_factory=list)
    filters: list[FilterBody] = Field(default_factory=list)
    sort: str = "attr:number"
    descending: bool = True
    offset: int = 0
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    columns: list[str] = Field(default_factory=list)
    with_names: bool = False


@router.post("/runs/query")
def runs_query(
    body: RunsQueryBody,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """One page of an experiment's runs table, filtered and sorted on the server by any
    attribute, tag, parameter or metric (``metric:NAME:last|min|max``) column."""
    query = RunsQuery(
        experiment=body.experiment,
        parent_run_id=body.parent,
        text=body.text,
        statuses=tuple(body.statuses),
        filters=tuple(RunFilter(parse_column(f.column), f.op, f.value) for f in body.filters),
        sort=parse_column(body.sort),
        descending=body.descending,
        offset=body.offset,
        limit=body.limit,
        columns=tuple(parse_column(c) for c in body.columns),
        with_names=body.with_names,
    )
    table = query_runs(database_of(store), query)
    return dict(to_wire(table))


class RowsBody(BaseModel):
    runs: list[str] = Field(min_length=1, max_length=MAX_PAGE)
    columns: list[str] = Field(default_factory=list)


@router.post("/runs/rows")
def runs_rows(
    body: RowsBody,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """The runs table's rows of some runs (for comparing them), with the metric columns
    asked for, and the names of the scalar metrics they logged."""
    columns = tuple(parse_column(c) for c in body.columns)
    rows, names = rows_of_runs(database_of(store), body.runs, columns)
    return {"rows": to_wire(rows), "metric_names": names}


@router.get("/runs/{run_id}")
def run_view(
    run_id: str,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """A run's record with its status history (the phase timeline), whether it has child
    runs, and the models registered from it."""
    record = store.get_run(run_id)
    history = store.get_status_history(run_id)
    children = store.list_runs(parent_run_id=run_id, limit=1)
    models = store.list_models(run_id=run_id)
    return {
        "run": to_wire(record),
        "history": to_wire(history),
        "has_children": bool(children),
        "models": [{"name": m.name, "version": m.version} for m in models],
    }

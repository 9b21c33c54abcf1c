"""The API's routes, one module per capability; :func:`routers` lists them in the order
``create_app`` mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from runyard.server.routes import (
    artifacts,
    catalogue,
    datasets,
    datastore_files,
    experiments,
    health,
    launch,
    members,
    metrics,
    models,
    runs,
    search,
    series,
    services,
    tokens,
    ui_catalogue,
    ui_files,
    ui_live,
    ui_metrics,
    ui_snapshot,
    ui_views,
    uploads,
    users,
    workspaces,
)


def routers() -> list[APIRouter]:
    """Every router of the API (mounted under ``/api/v1`` except ``health``'s probes)."""
    # search before runs: ``POST /runs/search`` must not be read as a run id.
    return [
        health.router,
        workspaces.router,
        users.router,
        tokens.router,
        members.router,
        search.router,
        series.router,
        experiments.router,
        runs.router,
        launch.router,
        metrics.router,
        models.router,
        datasets.router,
        catalogue.router,
        services.router,
        artifacts.router,
        uploads.router,
        datastore_files.datastore_files_router(),
        ui_views.router,
        ui_metrics.router,
        ui_files.router,
        ui_catalogue.router,
        ui_snapshot.router,
        ui_live.router,
    ]

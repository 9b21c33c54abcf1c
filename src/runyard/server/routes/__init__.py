"""The API's routes, one module per capability; :func:`routers` lists them in the order
``create_app`` mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from runyard.server.routes import (
    artifacts,
    catalogue,
    datasets,
    experiments,
    health,
    members,
    metrics,
    models,
    runs,
    search,
    series,
    services,
    tokens,
    uploads,
    users,
    workspaces,
)


def routers() -> list[APIRouter]:
    """Every router of the API (mounted under ``/api/v1`` except ``health``'s probes)."""
    return [
        health.router,
        workspaces.router,
        users.router,
        tokens.router,
        members.router,
        search.router,  # POST /runs/search and /metrics/series before the runs' own routes
        series.router,
        experiments.router,
        runs.router,
        metrics.router,
        models.router,
        datasets.router,
        catalogue.router,
        services.router,
        artifacts.router,
        uploads.router,
    ]

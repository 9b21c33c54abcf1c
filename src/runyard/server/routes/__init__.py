"""The API's routes, one module per capability; :func:`routers` lists them in the order
``create_app`` mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from runyard.server.routes import (
    catalogue,
    datasets,
    experiments,
    health,
    members,
    metrics,
    models,
    runs,
    services,
    tokens,
    ui_catalogue,
    ui_files,
    ui_metrics,
    ui_views,
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
        experiments.router,
        runs.router,
        metrics.router,
        models.router,
        datasets.router,
        catalogue.router,
        services.router,
        ui_views.router,
        ui_metrics.router,
        ui_files.router,
        ui_catalogue.router,
    ]

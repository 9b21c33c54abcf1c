"""The API's routes, one module per capability; :data:`ROUTERS` lists them in the order
``create_app`` mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from runyard.server.routes import health, search, series, workspaces


def routers() -> list[APIRouter]:
    """Every router of the API (mounted under ``/api/v1`` except ``health``'s probes)."""
    return [health.router, workspaces.router, search.router, series.router]

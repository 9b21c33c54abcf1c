"""Health and readiness probes (no authentication: they say nothing about the data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from runyard import __version__

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, Any]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/health/ready")
def ready(request: Request) -> dict[str, Any]:
    """The workspace's store answers (the database is reachable, migrations applied)."""
    resources = request.app.state.resources
    resources.store.list_experiments()
    return {"status": "ok", "version": __version__, "workspace": resources.name}

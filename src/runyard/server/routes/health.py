"""Health and readiness probes (no authentication: they say nothing about the data)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request

from runyard import __version__
from runyard.errors import NotFound

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, Any]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/health/ready")
def ready(request: Request) -> dict[str, Any]:
    """Every served workspace's store answers (databases reachable, migrations applied)."""
    registry = request.app.state.workspaces
    names = registry.names()
    for name in names:
        with contextlib.suppress(NotFound):  # one cheap indexed read
            registry.get(name).store.get_run("-readiness-")
    return {"status": "ok", "version": __version__, "workspaces": names}

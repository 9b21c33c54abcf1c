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
    """The identity store and every open workspace's store answer (databases reachable,
    migrations applied): the served workspace is opened at start, the home folder's on
    their first request. The home folder is not listed here: a probe called every few
    seconds should not cost a directory walk and a database open per workspace."""
    request.app.state.identity.credential("-readiness-")  # one cheap indexed read
    registry = request.app.state.workspaces
    names = registry.open_names()
    for name in names:
        with contextlib.suppress(NotFound):  # one cheap indexed read
            registry.get(name).store.get_run("-readiness-")
    return {"status": "ok", "version": __version__, "workspaces": names}

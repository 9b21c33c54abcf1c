"""``create_app(settings)``: the server's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from runyard import __version__
from runyard.errors import Unauthorized
from runyard.server.auth import Principal, Role
from runyard.server.errors import install_error_handlers
from runyard.server.routes import routers
from runyard.server.settings import ServerSettings
from runyard.server.ui.assets import install_web_ui
from runyard.server.workspaces import WorkspaceRegistry
from runyard.settings import Settings

API_PREFIX = "/api/v1"


def create_app(settings: ServerSettings) -> FastAPI:
    """The server for ``settings``: its REST API under ``/api/v1`` (one workspace's routes
    under ``/api/v1/workspaces/{workspace}``), health probes under ``/health``, and the
    OpenAPI document at ``/api/v1/openapi.json``.

    The workspaces' stores are opened when the app starts (which applies pending schema
    migrations) and closed when it stops.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = WorkspaceRegistry(settings.workspace, settings.home, Settings.from_env())
        for name in registry.names():  # open now: migrations run before the first request
            registry.get(name).store  # noqa: B018
        app.state.workspaces = registry
        try:
            yield
        finally:
            registry.close()

    app = FastAPI(
        title="Runyard",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticate = _loopback_admin(settings)
    install_error_handlers(app)
    for router in routers():
        prefix = "" if router.tags == ["health"] else API_PREFIX
        app.include_router(router, prefix=prefix)
    install_web_ui(app)  # the pages at / and /w/..., in front of the API
    return app


def _loopback_admin(settings: ServerSettings) -> Callable[[Request], Awaitable[Principal]]:
    async def authenticate(request: Request) -> Principal:
        if not settings.loopback_only:
            raise Unauthorized("This server has no authentication configured.")
        return Principal(name="local", role=Role.ADMIN)

    return authenticate

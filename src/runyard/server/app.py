"""``create_app(settings)``: the server's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runyard import __version__
from runyard.server.access_log import AccessLogMiddleware
from runyard.server.auth.bearer import BearerAuthenticator
from runyard.server.auth.cache import CredentialCache
from runyard.server.auth.ratelimit import WriteRateLimiter
from runyard.server.auth.signin import install_signin
from runyard.server.auth.startup import check_can_serve
from runyard.server.errors import install_error_handlers
from runyard.server.identity import open_identity_store
from runyard.server.limits import BodyLimitMiddleware
from runyard.server.node_access import NodeAccess
from runyard.server.routes import routers
from runyard.server.settings import ServerSettings
from runyard.server.slow_clients import BodyStallMiddleware
from runyard.server.sweeper import Sweeper
from runyard.server.ui.assets import install_web_ui
from runyard.server.ui.live import LiveStreams
from runyard.server.workspaces import WorkspaceRegistry
from runyard.settings import Settings

API_PREFIX = "/api/v1"


def create_app(settings: ServerSettings) -> FastAPI:
    """The server for ``settings``: its REST API under ``/api/v1`` (one workspace's routes
    under ``/api/v1/workspaces/{workspace}``), health probes under ``/health``, and the
    OpenAPI document at ``/api/v1/openapi.json``.

    Every route but the health probes and the API document needs a bearer token
    (``app.state.authenticate``, see :mod:`runyard.server.auth.bearer`). The identity store
    and the served workspace's stores are opened when the app starts (which applies pending
    schema migrations), the home folder's workspaces on first use; all are closed when it
    stops.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        identity = open_identity_store(settings.home, settings.database_url)
        try:
            check_can_serve(settings, identity)
        except BaseException:
            identity.close()
            raise
        runyard_settings = Settings.from_env()
        url = settings.url  # --public-url, or where this machine reaches it
        registry = WorkspaceRegistry(
            settings.workspace,
            settings.home,
            runyard_settings,
            # The runs this server starts reach a workspace through its API, with a token
            # of their own, never with its database URL or storage paths.
            node_access_for=lambda name: NodeAccess(identity, name, url),
        )
        app.state.identity = identity
        app.state.workspaces = registry
        sweeper = Sweeper(
            registry,
            max(1.0, runyard_settings.liveness_timeout_s / 2),
            interactive_timeout_s=settings.interactive_timeout_s,
        )
        live: LiveStreams = app.state.live
        live.hook_exit_signals()  # open event streams end when a stop is asked for
        try:
            if settings.workspace is not None:
                # Open now: its migrations run before the first request. The home's
                # workspaces open on their first request: opening each at start would make
                # the time to ready (and every worker's memory) grow with their number.
                registry.get(settings.workspace.workspace_name).store  # noqa: B018
            sweeper.start()
            yield
        finally:
            live.close()
            live.unhook_exit_signals()
            sweeper.stop()
            registry.close()
            identity.close()

    app = FastAPI(
        title="Runyard",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.live = LiveStreams()
    app.state.authenticate = BearerAuthenticator(
        CredentialCache(), WriteRateLimiter(settings.write_rate_per_s, settings.write_burst)
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyStallMiddleware, timeout_s=settings.client_timeout_s)
    app.add_middleware(AccessLogMiddleware)  # outermost: it sees every answer, 408s included
    for router in routers():
        prefix = "" if router.tags == ["health"] else API_PREFIX
        app.include_router(router, prefix=prefix)
    install_signin(app)  # /auth/...: how a browser gets its token (OIDC when configured)
    install_web_ui(app)  # the pages at / and /w/..., in front of the API
    return app

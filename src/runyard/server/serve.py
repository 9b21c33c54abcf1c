"""Serving the app with uvicorn: what ``runyard server start`` runs."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from runyard.errors import InvalidArgument
from runyard.server.access_log import configure_access_log
from runyard.server.settings import OidcSettings, ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

#: Where a server's worker processes find the settings they were started with.
ENV_SERVER_SETTINGS = "RUNYARD_SERVER_SETTINGS"


def serve(settings: ServerSettings) -> None:
    """Serve until interrupted (SIGINT/SIGTERM end it gracefully: requests in flight are
    answered, then the stores are closed)."""
    import uvicorn

    protocol = _http_protocol(settings)
    configure_access_log(settings.access_log)
    if settings.workers > 1:
        # Worker processes build their own app from the settings in the environment.
        os.environ[ENV_SERVER_SETTINGS] = settings_to_json(settings)
        uvicorn.run(
            "runyard.server.serve:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="info",
            http=protocol,
            access_log=False,  # runyard.server.access_log writes one JSON line instead
        )
        return
    from runyard.server.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        http=protocol,
        access_log=False,
    )


def _http_protocol(settings: ServerSettings) -> Any:
    """uvicorn's httptools protocol with a deadline for each request's head (a partial of a
    module-level class: it travels to worker processes); uvicorn's default where httptools
    is not installed."""
    import functools

    try:
        from runyard.server.head_deadline import HeadDeadlineProtocol
    except ImportError:  # no httptools: h11, without the head deadline
        return "auto"
    return functools.partial(HeadDeadlineProtocol, head_timeout_s=settings.client_timeout_s)


def settings_to_json(settings: ServerSettings) -> str:
    import dataclasses
    import json

    data = dataclasses.asdict(settings)
    data["workspace"] = settings.workspace.to_dict() if settings.workspace else None
    return json.dumps(data)


def settings_from_json(text: str) -> ServerSettings:
    import json

    from runyard.config import WorkspaceConfig

    try:
        data = json.loads(text)
        if data.get("oidc") is not None:
            data["oidc"] = OidcSettings(**data["oidc"])
        if data["workspace"] is not None:
            data["workspace"] = WorkspaceConfig.from_dict(
                data["workspace"], source=ENV_SERVER_SETTINGS
            )
        return ServerSettings(**data)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(
            f"{ENV_SERVER_SETTINGS} does not hold server settings: {exc}"
        ) from exc


def app_from_env() -> FastAPI:
    """The app of one worker process (uvicorn's factory when there are several)."""
    from runyard.server.app import create_app

    # Read once, then dropped: the runs this worker starts inherit its environment, and the
    # settings hold the database URL and the OIDC client secret.
    settings = settings_from_json(os.environ.pop(ENV_SERVER_SETTINGS))
    configure_access_log(settings.access_log)
    return create_app(settings)

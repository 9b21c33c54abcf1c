"""The team server: one REST API (``/api/v1``) over a workspace's stores.

``create_app(settings)`` builds the ASGI app (FastAPI); ``runyard server start`` serves it
with uvicorn. The server is a front end, like the CLI: it sits on top of the layers and
calls the same ports (TrackingStore, ArtifactStore) that the SDK calls in embedded mode.
Needs the ``server`` extra (``pip install 'runyard[server]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.server.app import create_app
    from runyard.server.settings import ServerSettings


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from runyard.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from runyard.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module 'runyard.server' has no attribute {name!r}")


__all__ = ["ServerSettings", "create_app"]

"""Run history and model registry: the TrackingStore port and how a URL picks its adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.tracking.store import TrackingStore

# scheme prefix -> (module, class, install hint). Imports stay lazy: sqlalchemy is only
# loaded when a store is opened, not when runyard is imported.
_ADAPTERS = {
    "sqlite": ("runyard.tracking.sql", "SqlTrackingStore", None),
    "postgresql": ("runyard.tracking.sql", "SqlTrackingStore", "postgres"),
    "memory": ("runyard.tracking.memory", "MemoryTrackingStore", None),
    "http": ("runyard.tracking.rest", "RestTrackingStore", None),
    "https": ("runyard.tracking.rest", "RestTrackingStore", None),
}
_SERVERS = frozenset({"http", "https"})


def open_tracking_store(
    uri: str,
    *,
    busy_timeout_s: float = 30.0,
    workspace: str | None = None,
    token: str | None = None,
) -> TrackingStore:
    """Open the store a tracking URI names (``sqlite:///...``, ``postgresql://...``,
    ``memory://`` for a store that lives in this process only, or a Runyard server's
    ``http(s)://host:port``).

    Args:
        uri: the tracking URI.
        busy_timeout_s: how long a SQLite writer waits for another one; for a server,
            how long one request may take.
        workspace: the workspace's name on a server (ignored by the other adapters,
            which hold one workspace each).
        token: the API token for a server (ignored by the other adapters).

    Raises:
        InvalidArgument: an unknown scheme (the message lists the known ones), or a
            server URI without a workspace.
    """
    import importlib

    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in _ADAPTERS:
        known = ", ".join(f"{s}://" for s in _ADAPTERS)
        raise InvalidArgument(
            f"Tracking URI {uri!r} has an unknown scheme {scheme!r}. Known: {known}."
        )
    module, cls, _extra = _ADAPTERS[scheme]
    store_cls = getattr(importlib.import_module(module), cls)
    if scheme in _SERVERS:
        server: TrackingStore = store_cls(
            uri, workspace=workspace, token=token, busy_timeout_s=busy_timeout_s
        )
        return server
    store: TrackingStore = store_cls(uri, busy_timeout_s=busy_timeout_s)
    return store


def required_extra(uri: str) -> str | None:
    """The Runyard extra (``pip install 'runyard[EXTRA]'``) a process needs to open the
    store ``uri`` names, or None when the base install is enough."""
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    return _ADAPTERS[scheme][2] if scheme in _ADAPTERS else None


__all__ = ["open_tracking_store", "required_extra"]

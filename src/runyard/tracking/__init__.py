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
}


def open_tracking_store(uri: str, *, busy_timeout_s: float = 30.0) -> TrackingStore:
    """Open the store a tracking URI names (``sqlite:///...``, ``postgresql://...``, or
    ``memory://`` for a store that lives in this process only).

    Args:
        uri: the tracking URI.
        busy_timeout_s: how long a SQLite writer waits for another one.
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
    store: TrackingStore = store_cls(uri, busy_timeout_s=busy_timeout_s)
    return store


def required_extra(uri: str) -> str | None:
    """The Runyard extra (``pip install 'runyard[EXTRA]'``) a process needs to open the
    store ``uri`` names, or None when the base install is enough."""
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    return _ADAPTERS[scheme][2] if scheme in _ADAPTERS else None


__all__ = ["open_tracking_store", "required_extra"]

"""The SQL adapter of the TrackingStore port: SQLite (embedded workspaces) and PostgreSQL
(server workspaces), schema managed by Alembic migrations.

Layout: ``store.py`` (the class) delegates to one module per entity (``experiments``,
``runs``, ``metrics``, ``models``, ``catalogue``); ``tables.py`` is the schema,
``migrations/`` creates and upgrades it, ``engine.py`` and ``database.py`` set up the
connections and translate database errors.
"""

from runyard.tracking.sql.engine import sqlite_url
from runyard.tracking.sql.store import SqlTrackingStore

__all__ = ["SqlTrackingStore", "sqlite_url"]

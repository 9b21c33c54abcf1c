"""The SQL database behind a served workspace's tracking store.

The UI's read models (summaries, the sortable runs table, ranged downsampling) are queries
no store port offers yet, so they read the store's tables directly; a served workspace's
store is always the SQL one (SQLite or PostgreSQL).
"""

from __future__ import annotations

from runyard.errors import InvalidState
from runyard.tracking.sql.database import Database
from runyard.tracking.sql.store import SqlTrackingStore
from runyard.tracking.store import TrackingStore


def database_of(store: TrackingStore) -> Database:
    """The database of a served workspace's store.

    Raises:
        InvalidState: the store is not a SQL store (a server serves only those).
    """
    if not isinstance(store, SqlTrackingStore):
        raise InvalidState(f"The web UI needs a SQL tracking store; this one is {store!r}.")
    return store._db  # the read models below are this adapter's queries

"""Checks on a SQLite database file before it is opened.

SQLite takes a zero-byte file for a new, empty database: it writes a fresh schema over it
and drops a write-ahead log that no longer matches. A workspace's ``runyard.db`` truncated
by a crash or a full disk would thus open as an empty workspace, its run history gone and
its artifacts orphaned. A zero-byte file next to a ``workspace.json`` marker (written only
once the database holds its schema) is therefore refused; one without the marker is a
database being created, which is fine.
"""

from __future__ import annotations

import os

from sqlalchemy.engine import URL

from runyard.config import WORKSPACE_MARKER
from runyard.errors import BackendError


def check_sqlite_file(url: URL) -> None:
    """Refuse to open a workspace's SQLite database that has been truncated to zero bytes.

    Args:
        url: A normalised SQLite URL (an in-memory database is never refused).

    Raises:
        BackendError: the file is empty but its folder holds a workspace; the message says
            what to do.
    """
    database = url.database
    if not database or database == ":memory:":
        return
    path = os.path.abspath(database)
    folder = os.path.dirname(path)
    try:
        empty = os.path.getsize(path) == 0
    except OSError:
        return  # not there yet: a new database
    if not empty or not os.path.exists(os.path.join(folder, WORKSPACE_MARKER)):
        return
    wal = path + "-wal"
    keep = f" together with {os.path.basename(wal)}" if os.path.exists(wal) else ""
    raise BackendError(
        f"The workspace database {path} is empty (0 bytes), but {folder} holds a workspace "
        f"({WORKSPACE_MARKER}): the file was truncated, probably by a crash or a full disk. "
        "Opening it would start an empty run history and orphan the workspace's artifacts, "
        f"so Runyard refuses. Restore {os.path.basename(path)} from a backup{keep}, or, to "
        f"start the history afresh, delete {path} (the artifacts folder stays as it is)."
    )

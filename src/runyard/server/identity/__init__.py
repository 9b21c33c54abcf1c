"""The server's identity: users, API tokens and workspace memberships.

One small SQL database per server, apart from the workspaces' stores: ``HOME/server.db``
(SQLite) unless the server is given a PostgreSQL URL (``--database-url``). Its schema has
its own Alembic migrations (``migrations/``) and its own version table.
"""

from __future__ import annotations

import os

from runyard.server.identity.records import (
    Credential,
    IssuedToken,
    Member,
    RunScope,
    TokenInfo,
    User,
)
from runyard.server.identity.store import MEMBER_ROLES, IdentityStore, parse_member_role
from runyard.server.identity.tokens import TOKEN_PREFIX, hash_secret
from runyard.tracking.sql.engine import sqlite_url

#: The SQLite file of a server's identity store, in its home folder.
IDENTITY_FILE = "server.db"


def identity_url(home: str, database_url: str | None = None) -> str:
    """The identity store's URL: ``database_url`` when given, else ``HOME/server.db``."""
    return database_url or sqlite_url(os.path.join(os.path.abspath(home), IDENTITY_FILE))


def open_identity_store(home: str, database_url: str | None = None) -> IdentityStore:
    """Open (creating and migrating it if need be) the identity store of a server."""
    if not database_url:
        os.makedirs(home, exist_ok=True)
    return IdentityStore(identity_url(home, database_url))


__all__ = [
    "IDENTITY_FILE",
    "MEMBER_ROLES",
    "TOKEN_PREFIX",
    "Credential",
    "IdentityStore",
    "IssuedToken",
    "Member",
    "RunScope",
    "TokenInfo",
    "User",
    "hash_secret",
    "identity_url",
    "open_identity_store",
    "parse_member_role",
]

"""The identity store: users, their API tokens and their roles in workspaces, in one small
SQL database of the server (``HOME/server.db`` by default, or a PostgreSQL URL)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import sqlalchemy as sa

from runyard.entities.validation import check_entity_name
from runyard.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from runyard.server.auth.roles import Role
from runyard.server.identity import tables as t
from runyard.server.identity.migrations import upgrade_to_head
from runyard.server.identity.records import (
    Credential,
    IssuedToken,
    Member,
    RunScope,
    TokenInfo,
    User,
)
from runyard.server.identity.tokens import hash_secret, new_secret, new_token_id
from runyard.tracking.sql.database import Database

#: Roles a workspace membership can hold (server administration is a user's flag).
MEMBER_ROLES = (Role.READER, Role.CONTRIBUTOR, Role.OWNER)

MAX_TOKEN_NAME = 255

# pg_advisory_xact_lock key that makes "is there an admin yet?" and its answer one step.
_PG_ADMIN_LOCK_KEY = 0x52594144


def parse_member_role(value: str) -> Role:
    """The membership role ``value`` names (reader, contributor or owner).

    Raises:
        InvalidArgument: any other value.
    """
    for role in MEMBER_ROLES:
        if role.name.lower() == str(value).lower():
            return role
    raise InvalidArgument(
        f"{value!r} is not a workspace role; use one of "
        f"{', '.join(r.name.lower() for r in MEMBER_ROLES)} (server administrators are "
        "users created with admin=true)."
    )


class IdentityStore:
    """Users, tokens and memberships in one SQL database.

    Args:
        url: a SQLite or PostgreSQL URL; the schema is migrated to the current revision.
        busy_timeout_s: how long a SQLite writer waits for another one.

    Raises:
        InvalidArgument: an unsupported URL. BackendError: the database cannot be used.
    """

    def __init__(self, url: str, *, busy_timeout_s: float = 30.0) -> None:
        self._db = Database(url, busy_timeout_s=busy_timeout_s)
        try:
            upgrade_to_head(self._db)
        except BaseException:
            self._db.close()
            raise

    def describe(self) -> str:
        return self._db.describe()

    # -- users -------------------------------------------------------------------------
    def create_user(self, name: str, *, admin: bool = False) -> User:
        """Add a user (no password: they get tokens from an administrator).

        Raises:
            InvalidArgument: a name that is not a valid name. AlreadyExists: taken.
        """
        check_entity_name("user", name)
        with self._db.write() as conn:
            return self._insert_user(conn, name, admin)

    def _insert_user(self, conn: sa.Connection, name: str, admin: bool) -> User:
        if conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).first():
            raise AlreadyExists(f"User {name!r} exists already.")
        user = User(name=name, admin=admin, disabled=False, created_at=time.time())
        conn.execute(
            t.users.insert().values(
                name=name, is_admin=admin, disabled=False, created_at=user.created_at
            )
        )
        return user

    def init_admin(self, name: str, *, expires_in_s: float | None = None) -> IssuedToken:
        """Create the server's first administrator and a token for them, in one step.

        Raises:
            InvalidState: the server has an administrator already (the message names them).
            InvalidArgument: a bad name.
        """
        check_entity_name("user", name)
        with self._db.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_ADMIN_LOCK_KEY})")
            admins = conn.execute(
                sa.select(t.users.c.name).where(t.users.c.is_admin.is_(True))
            ).scalars()
            existing = sorted(admins)
            if existing:
                raise InvalidState(
                    f"This server has an administrator already ({', '.join(existing)}); "
                    "init-admin only bootstraps the first one. An administrator creates "
                    "further users and tokens (runyard token create --user NAME)."
                )
            self._insert_user(conn, name, True)
            return self._issue(conn, name, "init-admin", expires_in_s, None)

    def has_admin(self) -> bool:
        """Whether any enabled administrator exists (someone can sign in and manage)."""
        query = sa.select(t.users.c.id).where(
            t.users.c.is_admin.is_(True), t.users.c.disabled.is_(False)
        )
        with self._db.read() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def get_user(self, name: str) -> User:
        """The user called ``name``. Raises NotFound."""
        with self._db.read() as conn:
            return self._user(conn, name)

    def _user(self, conn: sa.Connection, name: str) -> User:
        row = conn.execute(sa.select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            raise NotFound(f"User {name!r} does not exist on this server.")
        return User(row.name, bool(row.is_admin), bool(row.disabled), row.created_at)

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(t.users).order_by(t.users.c.name))
            return [User(r.name, bool(r.is_admin), bool(r.disabled), r.created_at) for r in rows]

    def set_disabled(self, name: str, disabled: bool) -> User:
        """Disable (or enable again) a user: a disabled user's tokens are refused. NotFound."""
        with self._db.write() as conn:
            self._user(conn, name)
            conn.execute(t.users.update().where(t.users.c.name == name).values(disabled=disabled))
            return self._user(conn, name)

    # -- tokens ------------------------------------------------------------------------
    def create_token(
        self,
        user: str,
        name: str,
        *,
        expires_in_s: float | None = None,
        run_scope: RunScope | None = None,
    ) -> IssuedToken:
        """A new token for ``user``; its secret is in the answer and nowhere else.

        Args:
            user: who holds it. name: what it is for (shown in lists).
            expires_in_s: seconds until it stops working (None: it does not expire).
            run_scope: for a run's token, the run it may write (with its children).

        Raises:
            NotFound: no such user. InvalidArgument: a bad name or expiry.
        """
        with self._db.write() as conn:
            return self._issue(conn, user, name, expires_in_s, run_scope)

    def _issue(
        self,
        conn: sa.Connection,
        user: str,
        name: str,
        expires_in_s: float | None,
        run_scope: RunScope | None,
    ) -> IssuedToken:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TOKEN_NAME:
            raise InvalidArgument(
                f"A token's name must be 1 to {MAX_TOKEN_NAME} characters, got {name!r}."
            )
        if expires_in_s is not None and not expires_in_s > 0:
            raise InvalidArgument(f"A token's lifetime must be positive, got {expires_in_s}.")
        user_id = self._user_id(conn, user)
        now = time.time()
        secret = new_secret()
        info = TokenInfo(
            id=new_token_id(),
            name=name,
            user=user,
            created_at=now,
            expires_at=None if expires_in_s is None else now + expires_in_s,
            revoked_at=None,
            run_scope=run_scope,
        )
        conn.execute(
            t.tokens.insert().values(
                id=info.id,
                user_id=user_id,
                name=name,
                token_hash=hash_secret(secret),
                created_at=now,
                expires_at=info.expires_at,
                revoked_at=None,
                scope_workspace=run_scope.workspace if run_scope else None,
                scope_run=run_scope.run_id if run_scope else None,
            )
        )
        return IssuedToken(secret=secret, info=info)

    def _user_id(self, conn: sa.Connection, name: str) -> int:
        user_id = conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).scalar()
        if user_id is None:
            raise NotFound(f"User {name!r} does not exist on this server.")
        return int(user_id)

    def list_tokens(self, user: str) -> list[TokenInfo]:
        """``user``'s tokens, newest first (revoked ones too, marked so). NotFound."""
        with self._db.read() as conn:
            user_id = self._user_id(conn, user)
            rows = conn.execute(
                sa.select(t.tokens)
                .where(t.tokens.c.user_id == user_id)
                .order_by(t.tokens.c.created_at.desc())
            )
            return [_token_info(r, user) for r in rows]

    def get_token(self, token_id: str) -> TokenInfo:
        """The token with public id ``token_id``. Raises NotFound."""
        with self._db.read() as conn:
            return self._token(conn, token_id)

    def _token(self, conn: sa.Connection, token_id: str) -> TokenInfo:
        row = conn.execute(
            sa.select(t.tokens, t.users.c.name.label("user_name"))
            .join(t.users, t.users.c.id == t.tokens.c.user_id)
            .where(t.tokens.c.id == token_id)
        ).first()
        if row is None:
            raise NotFound(f"Token {token_id!r} does not exist.")
        return _token_info(row, row.user_name)

    def revoke_token(self, token_id: str) -> TokenInfo:
        """Revoke a token for good (revoking it again changes nothing). NotFound."""
        with self._db.write() as conn:
            self._token(conn, token_id)
            conn.execute(
                t.tokens.update()
                .where(t.tokens.c.id == token_id, t.tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
            return self._token(conn, token_id)

    def credential(self, token_hash: str) -> Credential | None:
        """What the token whose hash is ``token_hash`` stands for; None when unknown.

        Revoked and expired tokens are answered too (the caller says why they are refused).
        """
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(
                    t.tokens,
                    t.users.c.name.label("user_name"),
                    t.users.c.is_admin,
                    t.users.c.disabled,
                )
                .join(t.users, t.users.c.id == t.tokens.c.user_id)
                .where(t.tokens.c.token_hash == token_hash)
            ).first()
            if row is None:
                return None
            roles = conn.execute(
                sa.select(t.members.c.workspace, t.members.c.role).where(
                    t.members.c.user_id == row.user_id
                )
            )
            return Credential(
                token=_token_info(row, row.user_name),
                admin=bool(row.is_admin),
                user_disabled=bool(row.disabled),
                roles={ws: Role[role.upper()] for ws, role in roles},
            )

    # -- memberships -------------------------------------------------------------------
    def set_member(self, workspace: str, user: str, role: Role) -> Member:
        """Give ``user`` ``role`` in ``workspace`` (replacing any role they had).

        Raises:
            NotFound: no such user. InvalidArgument: not a membership role.
        """
        if role not in MEMBER_ROLES:
            raise InvalidArgument(f"{role.name.lower()} is not a workspace role.")
        with self._db.write() as conn:
            user_id = self._user_id(conn, user)
            conn.execute(
                t.members.delete().where(
                    t.members.c.workspace == workspace, t.members.c.user_id == user_id
                )
            )
            conn.execute(
                t.members.insert().values(
                    workspace=workspace, user_id=user_id, role=role.name.lower()
                )
            )
        return Member(workspace, user, role)

    def remove_member(self, workspace: str, user: str) -> None:
        """Take ``user``'s role in ``workspace`` away. NotFound: not a member."""
        with self._db.write() as conn:
            user_id = self._user_id(conn, user)
            gone = conn.execute(
                t.members.delete().where(
                    t.members.c.workspace == workspace, t.members.c.user_id == user_id
                )
            ).rowcount
        if not gone:
            raise NotFound(f"User {user!r} is not a member of workspace {workspace!r}.")

    def list_members(self, workspace: str) -> list[Member]:
        """The members of ``workspace``, by user name."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(t.users.c.name, t.members.c.role)
                .join(t.users, t.users.c.id == t.members.c.user_id)
                .where(t.members.c.workspace == workspace)
                .order_by(t.users.c.name)
            )
            return _members(workspace, rows)

    def close(self) -> None:
        self._db.close()


def _token_info(row: sa.Row, user: str) -> TokenInfo:
    scope = None
    if row.scope_workspace is not None and row.scope_run is not None:
        scope = RunScope(row.scope_workspace, row.scope_run)
    return TokenInfo(
        id=row.id,
        name=row.name,
        user=user,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        run_scope=scope,
    )


def _members(workspace: str, rows: Iterable[sa.Row]) -> list[Member]:
    return [Member(workspace, name, Role[role.upper()]) for name, role in rows]

"""Typed records of the identity store: users, tokens, memberships, and what a token
resolves to when a request presents it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runyard.server.auth.roles import Role


@dataclass(frozen=True)
class User:
    """A person (or robot account) who can hold tokens."""

    name: str
    admin: bool
    disabled: bool
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "admin": self.admin,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class RunScope:
    """The run a run-scoped token may write (with its children), in its workspace."""

    workspace: str
    run_id: str


@dataclass(frozen=True)
class TokenInfo:
    """A token as lists show it: never its secret, never its hash."""

    id: str
    name: str
    user: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    run_scope: RunScope | None = None

    def to_dict(self) -> dict[str, Any]:
        scope = self.run_scope
        return {
            "id": self.id,
            "name": self.name,
            "user": self.user,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked": self.revoked_at is not None,
            "revoked_at": self.revoked_at,
            "run_scope": None
            if scope is None
            else {"workspace": scope.workspace, "run_id": scope.run_id},
        }


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the only time its secret exists outside its holder's hands."""

    secret: str = field(repr=False)
    info: TokenInfo


@dataclass(frozen=True)
class Member:
    """A user's role in one workspace."""

    workspace: str
    user: str
    role: Role

    def to_dict(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "user": self.user, "role": self.role.name.lower()}


@dataclass(frozen=True)
class Credential:
    """What a presented token stands for, as the authenticator caches it.

    Attributes:
        token: the token (its public part).
        admin: whether its user is a server administrator.
        user_disabled: whether its user has been disabled.
        roles: the user's role in each workspace they are a member of.
    """

    token: TokenInfo
    admin: bool
    user_disabled: bool
    roles: Mapping[str, Role]

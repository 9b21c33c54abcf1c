"""``/api/v1/users`` (server administrators) and ``/api/v1/me`` (anyone with a token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from runyard.errors import InvalidState
from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.bearer import forget_credentials, user_of
from runyard.server.identity import Credential, IdentityStore

router = APIRouter(tags=["identity"])


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    admin: bool = False


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: bool


def _store(request: Request) -> IdentityStore:
    store: IdentityStore = request.app.state.identity
    return store


@router.get("/me")
async def me(
    request: Request, principal: Principal = Depends(requires(Role.READER))
) -> dict[str, Any]:
    """Who the token belongs to: the user, their workspace roles, and the token itself."""
    credential: Credential = request.state.credential
    return {
        "user": credential.token.user,
        "admin": credential.admin and principal.run_scope is None,
        "memberships": {ws: role.name.lower() for ws, role in sorted(credential.roles.items())},
        "token": credential.token.to_dict(),
    }


@router.get("/users")
def list_users(
    request: Request, principal: Principal = Depends(requires(Role.ADMIN))
) -> dict[str, Any]:
    """Every user of the server."""
    return {"users": [u.to_dict() for u in _store(request).list_users()]}


@router.post("/users", status_code=201)
def create_user(
    body: UserCreate, request: Request, principal: Principal = Depends(requires(Role.ADMIN))
) -> dict[str, Any]:
    """Add a user (they get tokens from an administrator: POST /tokens with ``user``)."""
    return _store(request).create_user(body.name, admin=body.admin).to_dict()


@router.patch("/users/{name}")
def update_user(
    name: str,
    body: UserUpdate,
    request: Request,
    principal: Principal = Depends(requires(Role.ADMIN)),
) -> dict[str, Any]:
    """Disable a user (their tokens stop working) or enable them again."""
    if body.disabled and name == user_of(request, principal):
        raise InvalidState("You cannot disable yourself; another administrator can.")
    user = _store(request).set_disabled(name, body.disabled)
    forget_credentials(request)
    return user.to_dict()

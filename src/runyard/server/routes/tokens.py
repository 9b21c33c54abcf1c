"""``/api/v1/tokens``: a user's API tokens (created and shown once, listed, revoked)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from runyard.errors import Forbidden, NotFound
from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.bearer import forget_credentials, user_of
from runyard.server.identity import IdentityStore

router = APIRouter(tags=["identity"])

#: A new token's lifetime unless the request says otherwise.
DEFAULT_EXPIRES_DAYS = 90.0


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    # null: the token never expires.
    expires_days: float | None = Field(default=DEFAULT_EXPIRES_DAYS, gt=0)
    # Administrators may create a token for another user (how a new user gets their first).
    user: str | None = None


def _store(request: Request) -> IdentityStore:
    store: IdentityStore = request.app.state.identity
    return store


@router.post("/tokens", status_code=201)
def create_token(
    body: TokenCreate, request: Request, principal: Principal = Depends(requires(Role.READER))
) -> dict[str, Any]:
    """A new token; ``token`` in the answer is its secret, which is never shown again."""
    caller = user_of(request, principal)
    holder = body.user or caller
    if holder != caller and principal.role < Role.ADMIN:
        raise Forbidden("Only a server administrator can create a token for another user.")
    expires_s = None if body.expires_days is None else body.expires_days * 86400.0
    issued = _store(request).create_token(holder, body.name, expires_in_s=expires_s)
    return {"token": issued.secret, **issued.info.to_dict()}


@router.get("/tokens")
def list_tokens(
    request: Request,
    user: str | None = None,
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """The caller's tokens (an administrator may ask for another user's), never a secret."""
    caller = user_of(request, principal)
    if user not in (None, caller) and principal.role < Role.ADMIN:
        raise Forbidden("Only a server administrator can list another user's tokens.")
    tokens = _store(request).list_tokens(user or caller)
    return {"tokens": [t.to_dict() for t in tokens]}


@router.delete("/tokens/{token_id}")
def revoke_token(
    token_id: str, request: Request, principal: Principal = Depends(requires(Role.READER))
) -> dict[str, Any]:
    """Revoke one of the caller's tokens (an administrator: anyone's); it stops working at
    once on this server process and within seconds on the others."""
    caller = user_of(request, principal)
    store = _store(request)
    try:
        token = store.get_token(token_id)
    except NotFound:
        token = None
    if token is None or (token.user != caller and principal.role < Role.ADMIN):
        # Someone else's token is answered as missing: ids are not for probing.
        raise NotFound(f"You have no token {token_id!r}. List yours with GET /api/v1/tokens.")
    revoked = store.revoke_token(token_id)
    forget_credentials(request)
    return revoked.to_dict()

"""``/api/v1/workspaces/{workspace}/members``: who has which role in a workspace
(owners manage them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.bearer import forget_credentials
from runyard.server.identity import IdentityStore, parse_member_role

router = APIRouter(tags=["identity"])


class MemberSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str


def _store(request: Request, workspace: str) -> IdentityStore:
    request.app.state.workspaces.config(workspace)  # NotFound unless served here
    store: IdentityStore = request.app.state.identity
    return store


@router.get("/workspaces/{workspace}/members")
def list_members(
    workspace: str, request: Request, principal: Principal = Depends(requires(Role.READER))
) -> dict[str, Any]:
    """The workspace's members and their roles."""
    members = _store(request, workspace).list_members(workspace)
    return {"members": [m.to_dict() for m in members]}


@router.put("/workspaces/{workspace}/members/{user}")
def set_member(
    workspace: str,
    user: str,
    body: MemberSet,
    request: Request,
    principal: Principal = Depends(requires(Role.OWNER)),
) -> dict[str, Any]:
    """Give a user a role here (reader, contributor or owner), replacing the one they had."""
    role = parse_member_role(body.role)
    member = _store(request, workspace).set_member(workspace, user, role)
    forget_credentials(request)
    return member.to_dict()


@router.delete("/workspaces/{workspace}/members/{user}", status_code=204)
def remove_member(
    workspace: str,
    user: str,
    request: Request,
    principal: Principal = Depends(requires(Role.OWNER)),
) -> Response:
    """Take a user's role here away."""
    _store(request, workspace).remove_member(workspace, user)
    forget_credentials(request)
    return Response(status_code=204)

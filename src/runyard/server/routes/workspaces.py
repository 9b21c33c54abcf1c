"""``/api/v1/workspaces``: the workspaces this server serves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.bearer import visible_workspaces

router = APIRouter(tags=["workspaces"])


class WorkspaceCreate(BaseModel):
    """A workspace to create: only its name. Where its files and database live is the
    server's choice (its home folder), so a caller cannot point a workspace at the
    server's own files or at an internal URL; any other field is refused."""

    model_config = ConfigDict(extra="forbid")

    name: str


def _describe(request: Request, name: str) -> dict[str, Any]:
    return {"name": name, "url": f"{request.url_for('get_workspace', workspace=name)}"}


@router.get("/workspaces")
def list_workspaces(
    request: Request, principal: Principal = Depends(requires(Role.READER))
) -> dict[str, Any]:
    """The workspaces served here that the caller has a role in."""
    names = visible_workspaces(request, principal, request.app.state.workspaces.names())
    return {"workspaces": [_describe(request, name) for name in names]}


@router.post("/workspaces", status_code=201)
def create_workspace(
    body: WorkspaceCreate,
    request: Request,
    principal: Principal = Depends(requires(Role.ADMIN)),
) -> dict[str, Any]:
    """Create an empty workspace (server administrators only)."""
    config = request.app.state.workspaces.create(body.name)
    return _describe(request, config.workspace_name)


@router.get("/workspaces/{workspace}")
def get_workspace(
    workspace: str, request: Request, principal: Principal = Depends(requires(Role.READER))
) -> dict[str, Any]:
    """One served workspace (404 when it is not served)."""
    request.app.state.workspaces.config(workspace)
    return _describe(request, workspace)

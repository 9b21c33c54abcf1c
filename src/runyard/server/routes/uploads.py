"""Writing whole files through the server: ``PUT /artifacts/{path}`` (one body) and the
resumable uploads (``POST .../uploads``, ``PUT ...?upload_id=&offset=``, ``POST
.../commit``, ``POST .../abort``); see :mod:`runyard.server.routes.artifacts` for the
whole API. A file appears whole under its name or not at all."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from runyard.artifacts.paths import check_relpath
from runyard.artifacts.store import ArtifactStore
from runyard.artifacts.uploads import Uploads
from runyard.errors import InvalidArgument
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_artifacts
from runyard.server.routes.artifact_requests import (
    TooLarge,
    body_limit,
    check_declared_length,
    receive_into,
    told_safely,
    too_large,
    workspace_uploads,
)

router = APIRouter(prefix="/workspaces/{workspace}/artifacts", tags=["artifacts"])

#: The header of a chunk's answer: where the upload stands.
UPLOAD_OFFSET = "Upload-Offset"


@router.put("/{path:path}", status_code=201)
async def put_file(
    path: str,
    request: Request,
    workspace: str,
    upload_id: str | None = None,
    offset: int | None = None,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> Response:
    """The whole file in the body; with ``upload_id`` and ``offset``: the next chunk of
    that upload (answered with where the upload stands)."""
    name = check_relpath(path)
    uploads = workspace_uploads(workspace, request, store)
    if upload_id is not None:
        if offset is None or offset < 0:
            raise InvalidArgument("A chunk needs offset=N: where it starts in the file.")
        with told_safely(name):
            return await _put_chunk(request, uploads, name, upload_id, offset)
    if offset is not None:
        raise InvalidArgument("offset goes with upload_id; a whole file needs neither.")
    try:
        check_declared_length(request)
    except TooLarge:
        return too_large(request)
    with told_safely(name):
        state = await run_in_threadpool(uploads.begin, name)
        try:
            with uploads.chunk(name, state.upload_id, 0) as writer:
                size = await receive_into(request, writer)
            await run_in_threadpool(uploads.commit, name, state.upload_id, size)
        except TooLarge:
            return too_large(request)
        except ClientDisconnect:  # nobody to answer; nothing was stored
            return Response(status_code=400)
        finally:
            await run_in_threadpool(uploads.abort, name, state.upload_id)  # none once committed
    return JSONResponse({"name": name, "size": size}, 201)


async def _put_chunk(
    request: Request, uploads: Uploads, name: str, upload_id: str, offset: int
) -> Response:
    try:
        with uploads.chunk(name, upload_id, offset) as writer:
            try:
                await receive_into(request, writer)
            except TooLarge:
                writer.undo()
                raise
            at = writer.offset
    except TooLarge:
        return too_large(request)
    except ClientDisconnect:  # what arrived is kept: the sender asks where to go on
        return Response(status_code=400)
    return JSONResponse(
        {"name": name, "upload_id": upload_id, "offset": at},
        200,
        headers={UPLOAD_OFFSET: str(at)},
    )


@router.post("/{path:path}/uploads", status_code=201)
def begin_upload(
    path: str,
    request: Request,
    workspace: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> dict[str, Any]:
    """Start a resumable upload of ``path``; nothing is visible under it until the commit.
    ``max_chunk_bytes`` is the largest chunk this server takes."""
    name = check_relpath(path)
    with told_safely(name):
        state = workspace_uploads(workspace, request, store).begin(name)
    return {
        "name": state.name,
        "upload_id": state.upload_id,
        "offset": 0,
        "max_chunk_bytes": body_limit(request),
    }


@router.post("/{path:path}/commit")
def commit_upload(
    path: str,
    request: Request,
    workspace: str,
    upload_id: str,
    size: int,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> dict[str, Any]:
    """Move a whole upload in place (409 when it does not hold ``size`` bytes)."""
    name = check_relpath(path)
    with told_safely(name):
        stored = workspace_uploads(workspace, request, store).commit(name, upload_id, size)
    return {"name": name, "size": stored}


@router.post("/{path:path}/abort", status_code=204)
def abort_upload(
    path: str,
    request: Request,
    workspace: str,
    upload_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> Response:
    """Drop an upload and what it holds."""
    name = check_relpath(path)
    with told_safely(name):
        workspace_uploads(workspace, request, store).abort(name, upload_id)
    return Response(status_code=204)

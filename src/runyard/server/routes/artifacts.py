"""``/api/v1/workspaces/{workspace}/artifacts``: a workspace's files through the server,
so clients and nodes need no storage credentials.

========================================  ===========  ==================================
``GET    /artifacts?prefix=P``            reader       the files under ``P``, sorted
``HEAD   /artifacts/{path}``              reader       200 with ``Content-Length``, or 404
``GET    /artifacts/{path}``              reader       the file, streamed; one ``Range``
                                                       (206 + ``Content-Range``; 416 when
                                                       it cannot be served)
``GET    /artifacts/{path}?upload_id=U``  reader       how many bytes upload U holds
``PUT    /artifacts/{path}``              contributor  the whole file in one body
``POST   /artifacts/{path}/uploads``      contributor  start a resumable upload: its id
``PUT    /artifacts/{path}?upload_id=U``  contributor  the next chunk, at ``&offset=N``
``POST   /artifacts/{path}/commit``       contributor  ``?upload_id=U&size=S``: move it in
``POST   /artifacts/{path}/abort``        contributor  ``?upload_id=U``: drop an upload
``POST   /artifacts/{path}/append``       contributor  add the body at the end (logs)
``POST   /artifacts/{path}/copy``         contributor  ``?source=S``: copy S to path
``DELETE /artifacts/{path}``              owner        a file, or a folder and all in it
========================================  ===========  ==================================

Every body (a whole file, a chunk, an append) is at most the server's ``max_body_mb``
(413 otherwise, and nothing is written); larger files go as resumable uploads. A file
written through ``PUT`` or an upload appears whole or not at all. Every path is checked
with :func:`runyard.artifacts.paths.check_relpath` before anything is touched: ``..``,
absolute paths, backslashes, NUL and their percent-encoded forms are refused with 400.
Downloads are ``application/octet-stream`` attachments (never rendered by a browser as
the server's own page).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.paths import check_relpath
from runyard.artifacts.store import ArtifactStore, FsspecArtifactStore
from runyard.artifacts.transfer import list_entries
from runyard.entities.paths import folder_arg
from runyard.errors import InvalidArgument, InvalidState, NotFound
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_artifacts
from runyard.server.routes.artifact_requests import (
    PIECE_BYTES,
    TooLarge,
    read_body,
    told_safely,
    too_large,
    workspace_uploads,
)
from runyard.tracking.wire import error_body

router = APIRouter(prefix="/workspaces/{workspace}/artifacts", tags=["artifacts"])

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@router.get("")
def list_files(
    prefix: str = "",
    detail: bool = False,
    principal: Principal = Depends(requires(Role.READER)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> dict[str, Any]:
    """The files under ``prefix`` (a folder or one file; empty: all), sorted; with
    ``detail``, also ``entries``: ``[name, size, change tag]`` each (a client caching a
    datastore's files tells a changed one by them)."""
    folder = folder_arg(prefix, "prefix")
    with told_safely(folder):
        if not detail:
            return {"files": store.list(folder)}
        options = store.storage_options if isinstance(store, FsspecArtifactStore) else {}
        entries = list_entries(store, folder, options)
    return {
        "files": [e.name for e in entries],
        "entries": [[e.name, e.size, e.tag] for e in entries],
    }


@router.head("/{path:path}")
def file_info(
    path: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> Response:
    """200 with the file's size in ``Content-Length`` (404 when there is none)."""
    name = check_relpath(path)
    with told_safely(name):
        size = store.size(name)
    return Response(headers={"Content-Length": str(size), "Accept-Ranges": "bytes"})


@router.get("/{path:path}")
async def download(
    path: str,
    request: Request,
    workspace: str,
    upload_id: str | None = None,
    principal: Principal = Depends(requires(Role.READER)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> Response:
    """The file, streamed, or one ``Range`` of it (``bytes=A-B``, ``bytes=A-``,
    ``bytes=-N``). With ``upload_id``: that upload's state instead."""
    name = check_relpath(path)
    if upload_id is not None:
        uploads = workspace_uploads(workspace, request, store)
        with told_safely(name):
            state = await run_in_threadpool(uploads.state, name, upload_id)
        return JSONResponse({"name": state.name, "upload_id": upload_id, "offset": state.offset})
    with told_safely(name):
        size = await run_in_threadpool(store.size, name)
    headers = {
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "attachment; filename*=UTF-8''"
        + urllib.parse.quote(name.rsplit("/", 1)[-1]),
    }
    status, start, end = 200, 0, size
    wanted = request.headers.get("range")
    if wanted is not None:
        parsed = _parse_range(wanted, size)
        if parsed is None:
            return JSONResponse(
                error_body(
                    "invalid_argument",
                    f"Range {wanted!r} cannot be served: {name!r} has {size} bytes; ask for "
                    "one range, bytes=START-END, bytes=START- or bytes=-LAST.",
                ),
                416,
                headers={"Content-Range": f"bytes */{size}"},
            )
        status, (start, end) = 206, parsed
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    piece = PIECE_BYTES if store.local_path("") is not None else 8 * PIECE_BYTES
    # The first piece is read before answering, so a file that cannot be read (a folder,
    # gone since its size was read) gets its error status, not a broken 200.
    with told_safely(name):
        first = await run_in_threadpool(store.read_range, name, start, min(piece, end - start))

    async def body() -> AsyncIterator[bytes]:
        at = start + len(first)
        if first:
            yield first
        while at < end:
            data = await run_in_threadpool(store.read_range, name, at, min(piece, end - at))
            if not data:  # the file shrank since its size was read: the client gets fewer
                return  # bytes than Content-Length and asks again
            at += len(data)
            yield data

    return StreamingResponse(
        body(), status_code=status, headers=headers, media_type="application/octet-stream"
    )


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) of one satisfiable byte range, else None."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        if last and int(last) < start:
            return None
        end = min(int(last) + 1, size) if last else size
    elif last:
        start, end = max(size - int(last), 0), size
    else:
        return None
    return (start, end) if start < end else None


@router.post("/{path:path}/append", status_code=204)
async def append(
    path: str,
    request: Request,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: ArtifactStore = Depends(workspace_artifacts),
    offset: int | None = None,
) -> Response:
    """Add the body at the end of the file, creating it (a run's logs as they grow).

    With ``offset`` (where the body starts in the file, as the writer counts), an append
    sent again after a lost answer adds nothing twice: the bytes the file already has
    from ``offset`` on must equal the body's first bytes, and only the rest is added.
    409 when the file is shorter than ``offset`` or those bytes differ (another writer).
    """
    name = check_relpath(path)
    if offset is not None and offset < 0:
        raise InvalidArgument(f"offset must be 0 or more, got {offset}.")
    try:
        data = await read_body(request)
    except TooLarge:
        return too_large(request)
    with told_safely(name):
        if offset is None:
            await run_in_threadpool(store.append_bytes, data, name)
        else:
            await run_in_threadpool(_append_at, store, name, data, offset)
    return Response(status_code=204)


def _append_at(store: ArtifactStore, name: str, data: bytes, offset: int) -> None:
    """Append what of ``data`` (which starts at byte ``offset``) lies beyond the file's end.

    Raises:
        InvalidState: the file is shorter than ``offset``, or its bytes from ``offset`` on
            are not ``data``'s.
    """
    existed = store.exists(name)
    size = store.size(name) if existed else 0
    if size < offset:
        raise InvalidState(
            f"Cannot append to {name!r} at byte {offset}: it has {size} bytes. Append at "
            "its end (read its size first)."
        )
    overlap = min(size - offset, len(data))
    if overlap and store.read_range(name, offset, overlap) != data[:overlap]:
        raise InvalidState(
            f"Cannot append to {name!r} at byte {offset}: it already has other bytes "
            f"there (it has {size} bytes; another writer appended). Append at its end."
        )
    if overlap < len(data) or not existed:  # an empty append creates the file
        store.append_bytes(data[overlap:], name)


@router.post("/{path:path}/copy", status_code=201)
def copy(
    path: str,
    source: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> dict[str, Any]:
    """Copy the file ``source`` of this workspace to ``path``."""
    target = check_relpath(path)
    origin = check_relpath(source, what="source")
    with told_safely(origin):
        if not store.exists(origin):
            raise NotFound(origin)
        store.copy(origin, target)
    return {"name": target, "source": origin}


@router.delete("/{path:path}", status_code=204)
def delete(
    path: str,
    principal: Principal = Depends(requires(Role.OWNER)),
    store: ArtifactStore = Depends(workspace_artifacts),
) -> Response:
    """Delete a file, or a folder with everything in it (missing is fine)."""
    name = check_relpath(path)
    with told_safely(name):
        store.delete(name)
    return Response(status_code=204)

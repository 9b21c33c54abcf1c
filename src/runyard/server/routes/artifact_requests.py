"""What the artifact routes share: the per-request body limit, bodies read in pieces,
and store errors worded without the server's folders or URLs."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.paths import check_relpath
from runyard.artifacts.store import ArtifactStore
from runyard.artifacts.uploads import ChunkWriter, Uploads
from runyard.errors import BackendError, InvalidArgument, NotFound
from runyard.server.limits import BodyTooLarge
from runyard.tracking.wire import error_body

log = logging.getLogger("runyard.server.artifacts")

#: Bytes read from the store per piece of a download (and written per piece of an upload).
PIECE_BYTES = 1024 * 1024


# One exception for a body over the limit: the body-limit middleware raises it from
# ``receive`` when a body sent without a length passes the limit, and these routes
# answer it (413) after cleaning up what they staged.
TooLarge = BodyTooLarge


@contextlib.contextmanager
def told_safely(name: str) -> Iterator[None]:
    """The store's errors as the client may see them: its messages name the server's
    folders and URLs, which stay in the server's log."""
    try:
        yield
    except NotFound as exc:
        raise NotFound(f"No file {name!r} in this workspace.") from exc
    except InvalidArgument as exc:
        log.warning("Refused %r: %s", name, exc)
        raise InvalidArgument(
            f"The file name {name!r} leads outside this workspace's files."
        ) from exc
    except BackendError as exc:
        log.error("Storage failed for %r: %s", name, exc)
        raise BackendError(
            f"The server's storage failed for {name!r}; its log has details."
        ) from exc


def body_limit(request: Request) -> int:
    limit: int = request.app.state.settings.max_body_bytes
    return limit


def workspace_uploads(workspace: str, request: Request, store: ArtifactStore) -> Uploads:
    """The resumable uploads into ``store``: the workspace's files, or on the datastore
    routes a datastore's (staged apart, so an upload is committed where it began)."""
    staging = os.path.join(request.app.state.settings.home, ".ry~uploads", workspace)
    datastore = request.path_params.get("datastore")
    if datastore is not None:
        staging = os.path.join(staging, ".datastores", check_relpath(datastore))
    return Uploads(store, staging)


def too_large(request: Request) -> JSONResponse:
    limit = body_limit(request)
    return JSONResponse(
        error_body(
            "invalid_argument",
            f"The body is larger than this server's limit of {limit} bytes per request; "
            "send a large file as a resumable upload in chunks of at most that size.",
        ),
        413,
    )


def check_declared_length(request: Request) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit(request):
        raise TooLarge


async def receive_into(request: Request, writer: ChunkWriter) -> int:
    """Write the request's body through ``writer`` in pieces; the bytes written."""
    check_declared_length(request)
    limit = body_limit(request)
    pieces: list[bytes] = []  # handed to the writer as they came: no joining copies
    waiting = 0
    received = 0
    async for piece in request.stream():
        received += len(piece)
        if received > limit:
            raise TooLarge
        pieces.append(piece)
        waiting += len(piece)
        if waiting >= PIECE_BYTES:
            await run_in_threadpool(writer.write_pieces, pieces)
            pieces, waiting = [], 0
    if pieces:
        await run_in_threadpool(writer.write_pieces, pieces)
    return received


async def read_body(request: Request) -> bytes:
    check_declared_length(request)
    limit = body_limit(request)
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise TooLarge
    return bytes(body)

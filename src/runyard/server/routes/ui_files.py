"""Run files for the web UI: the file list, a log's new bytes since an offset (the live
tail), and one file's download or inline preview (with HTTP ranges). Read-only."""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response

from runyard.artifacts.layout import LOG_PREFIXES, run_file_key, run_files_prefix
from runyard.artifacts.paths import check_relpath
from runyard.artifacts.store import ArtifactStore
from runyard.errors import InvalidArgument, NotFound
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_artifacts, workspace_store
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}/ui/runs/{run_id}", tags=["ui"])

#: The most bytes one tail read returns (a log that grew more is read in several).
MAX_TAIL_BYTES = 256 * 1024


@router.get("/files")
def list_files(
    run_id: str,
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """The run's files (outputs, logs, uploads) with their sizes; ``logs`` names the ones
    that are logs."""
    store.get_run(run_id)
    prefix = run_files_prefix(run_id) + "/"
    names = [name[len(prefix) :] for name in artifacts.list(prefix.rstrip("/"))]
    files = [{"name": name, "size": _size(artifacts, prefix + name)} for name in names]
    logs = [name for name in names if name.startswith(LOG_PREFIXES)]
    return {"files": files, "logs": logs}


def _size(artifacts: ArtifactStore, key: str) -> int | None:
    try:
        return artifacts.size(key)
    except (NotFound, OSError):
        return None


@router.get("/tail")
def tail(
    run_id: str,
    name: str,
    offset: int = Query(default=0, ge=0),
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> dict[str, Any]:
    """What log ``name`` holds from byte ``offset`` on (at most 256 KB), the offset to
    ask from next, and the run's status (a tail stops when the run ended and nothing is
    left)."""
    record = store.get_run(run_id)
    key = run_file_key(run_id, check_relpath(name))
    data = _read_from(artifacts, key, offset)
    chunk = data[:MAX_TAIL_BYTES]
    return {
        "text": chunk.decode("utf-8", errors="replace"),
        "offset": offset + len(chunk),
        "more": len(data) > len(chunk),
        "status": record.status.value,
        "ended": record.is_terminal,
    }


def _read_from(artifacts: ArtifactStore, key: str, offset: int) -> bytes:
    local = artifacts.local_path(key)
    if local is not None:
        try:
            with open(local, "rb") as fh:
                fh.seek(offset)
                return fh.read(MAX_TAIL_BYTES + 1)
        except FileNotFoundError:
            return b""
    try:
        return artifacts.read_bytes(key)[offset:]
    except NotFound:
        return b""


@router.get("/files/{name:path}")
def get_file(
    run_id: str,
    name: str,
    download: bool = False,
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(requires(Role.READER)),
) -> Response:
    """One run file: shown inline (text, images, JSON) or, with ``download``, as an
    attachment. Byte ranges are honoured for files on local storage."""
    store.get_run(run_id)
    try:
        key = run_file_key(run_id, check_relpath(name))
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from exc
    return file_response(artifacts, key, name, download=download)


def file_response(artifacts: ArtifactStore, key: str, name: str, *, download: bool) -> Response:
    """Artifact ``key`` served as file ``name``: inline (text, images and JSON with safe
    types) or as an attachment, with byte ranges when it is on local storage."""
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media.startswith("text/") or name.endswith((".log", ".txt", ".json", ".yaml", ".yml")):
        media = "text/plain; charset=utf-8" if not name.endswith(".json") else "application/json"
    leaf = os.path.basename(name)
    disposition = "attachment" if download else "inline"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(leaf)}",
        "X-Content-Type-Options": "nosniff",
        # Opened directly (not through the page), an SVG or HTML output runs no script in
        # the UI's origin.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        "Cache-Control": "no-cache",
    }
    local = artifacts.local_path(key)
    if local is not None and os.path.isfile(local):
        return FileResponse(local, media_type=media, headers=headers)
    return Response(artifacts.read_bytes(key), media_type=media, headers=headers)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")

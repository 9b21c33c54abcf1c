"""The ArtifactStore port over a Runyard server's API: a workspace's files for clients and
nodes that hold a token and no storage credentials.

Large files move in chunks both ways (:data:`CHUNK_BYTES` by default): an upload is a
resumable upload on the server (begun, sent chunk by chunk at the offsets the server
confirms, committed whole), a download a stream that picks up with a ``Range`` request
where a broken connection left it. A failed chunk is sent again after asking the server
where the upload stands, so a chunk is never written twice. ``progress(done, total)`` is
called after every chunk.

The routes are those of :mod:`runyard.server.routes.artifacts`.
"""

from __future__ import annotations

import builtins
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runyard.artifacts import temporaries
from runyard.artifacts.paths import check_relpath
from runyard.artifacts.store import ArtifactStore
from runyard.errors import BackendError, InvalidArgument, InvalidState, NotFound
from runyard.rest_client import ApiClient, ServerUnreachable

if TYPE_CHECKING:
    import httpx

#: Bytes per upload chunk and per download request piece.
CHUNK_BYTES = 8 * 1024 * 1024
#: Files up to this size go in one request; larger ones as resumable uploads, which also
#: learn the server's limit per request (``runyard server start --max-body-mb``).
ONE_REQUEST_BYTES = 1024 * 1024
#: ``progress(done_bytes, total_bytes)``: called as a transfer goes.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Upload:
    """A resumable upload on the server: its id, the bytes it holds and the largest
    chunk the server takes."""

    name: str
    upload_id: str
    offset: int
    max_chunk_bytes: int


class RestArtifactStore(ArtifactStore):
    """A served workspace's files.

    Args:
        url: the server (``http://host:port``).
        workspace: the workspace's name on the server.
        token: the bearer token (None: none is sent; a loopback server needs none).
        chunk_bytes: bytes per chunk (the server's limit lowers it when smaller).
        retries: how many times one chunk or request is tried again after the connection
            fails, waiting ``retry_wait_s`` doubled each time.
        retry_wait_s: the first wait before a retry.
        timeout_s: how long one request may wait for the server.
        transport: an httpx transport instead of the network (tests).
        datastore: the files of this datastore of the workspace (read and written
            through the server) instead of the workspace's own files.
    """

    def __init__(
        self,
        url: str,
        workspace: str,
        token: str | None = None,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        retries: int = 4,
        retry_wait_s: float = 0.5,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        datastore: str | None = None,
    ) -> None:
        if chunk_bytes < 1:
            raise InvalidArgument(f"chunk_bytes must be positive, got {chunk_bytes}.")
        self._api = ApiClient(url, token=token, timeout_s=timeout_s, transport=transport)
        workspace_path = f"/workspaces/{urllib.parse.quote(workspace, safe='')}"
        self._base = f"{workspace_path}/artifacts"
        if datastore is not None:
            datastore_path = urllib.parse.quote(datastore, safe="")
            self._base = f"{workspace_path}/datastores/{datastore_path}/files"
        self._url = f"{self._api.base_url}/api/v1{self._base}"
        self.chunk_bytes = chunk_bytes
        self.retries = retries
        self.retry_wait_s = retry_wait_s
        # Where this store's next append to each file starts (see append_bytes).
        self._append_offsets: dict[str, int] = {}
        self._append_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    def local_path(self, name: str = "") -> str | None:
        return None

    def _path(self, name: str, suffix: str = "") -> str:
        return f"{self._base}/{urllib.parse.quote(check_relpath(name), safe='/')}{suffix}"

    def _retrying(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """``send()`` again while the server cannot be reached (idempotent requests only)."""
        for attempt in range(self.retries + 1):
            try:
                return send()
            except ServerUnreachable:
                if attempt == self.retries:
                    raise
                time.sleep(self.retry_wait_s * 2**attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    # -- writing ----------------------------------------------------------------------
    def _one_request(self, size: int) -> bool:
        return size <= min(self.chunk_bytes, ONE_REQUEST_BYTES)

    def _forget_appends(self, prefix: str) -> None:
        """The files under ``prefix`` are replaced or deleted: appends count afresh."""
        with self._append_lock:
            for key in [
                k for k in self._append_offsets if k == prefix or k.startswith(prefix + "/")
            ]:
                del self._append_offsets[key]

    def put_bytes(self, data: bytes, name: str) -> None:
        self._forget_appends(name)
        if self._one_request(len(data)):
            path = self._path(name)
            self._retrying(lambda: self._api.request("PUT", path, content=data))
            return
        upload = self.start_upload(name)
        self._send(upload, len(data), lambda at, n: data[at : at + n], None, fresh=True)

    def put_file(self, local_path: str, name: str, *, progress: Progress | None = None) -> None:
        """Upload a file; above ``chunk_bytes`` as a resumable upload, chunk by chunk.

        Raises:
            NotFound: no file at ``local_path``.
            BackendError: the server could not be reached after the retries (a large
                file's upload stays on the server; :meth:`resume_upload` continues it
                within 15 minutes).
        """
        self._forget_appends(name)
        try:
            total = os.path.getsize(local_path)
        except FileNotFoundError as exc:
            raise NotFound(f"File to upload {local_path!r} does not exist.") from exc
        if self._one_request(total):
            with open(local_path, "rb") as fh:
                data = fh.read()
            self.put_bytes(data, name)
            if progress is not None:
                progress(total, total)
            return
        self._send_file(local_path, self.start_upload(name), progress, fresh=True)

    def start_upload(self, name: str) -> Upload:
        """Begin a resumable upload of ``name`` (nothing shows under the name until it is
        committed); send it with :meth:`resume_upload`."""
        path = self._path(name, "/uploads")
        body = self._retrying(lambda: self._api.request("POST", path)).json()
        return Upload(
            body["name"], body["upload_id"], int(body["offset"]), int(body["max_chunk_bytes"])
        )

    def upload_state(self, name: str, upload_id: str) -> Upload:
        """Where an upload stands on the server (``offset``: the bytes it holds).

        Raises:
            NotFound: the upload was committed, aborted or cleaned away.
        """
        path = self._path(name)
        response = self._retrying(
            lambda: self._api.request("GET", path, params={"upload_id": upload_id})
        )
        return Upload(name, upload_id, int(response.json()["offset"]), self.chunk_bytes)

    def resume_upload(
        self, local_path: str, upload: Upload, *, progress: Progress | None = None
    ) -> None:
        """Send ``local_path`` as ``upload`` from where the server says it stands, then
        commit it: also after this process or the server was stopped midway.

        Raises:
            NotFound: the upload is gone (committed, aborted, or untouched for 15 minutes
                and cleaned): start a new one.
        """
        self._send_file(local_path, upload, progress, fresh=False)

    def _send_file(
        self, local_path: str, upload: Upload, progress: Progress | None, *, fresh: bool
    ) -> None:
        total = os.path.getsize(local_path)
        with open(local_path, "rb") as fh:

            def read(at: int, n: int) -> bytes:
                fh.seek(at)
                return fh.read(n)

            self._send(upload, total, read, progress, fresh=fresh)

    def abort_upload(self, upload: Upload) -> None:
        """Drop an upload and what the server holds of it."""
        path = self._path(upload.name, "/abort")
        self._retrying(
            lambda: self._api.request("POST", path, params={"upload_id": upload.upload_id})
        )

    def _send(
        self,
        upload: Upload,
        total: int,
        read: Callable[[int, int], bytes],
        progress: Progress | None,
        *,
        fresh: bool,
    ) -> None:
        """Send chunks from where the upload stands (``fresh``: one just begun, at 0)."""
        chunk = min(self.chunk_bytes, upload.max_chunk_bytes)
        path = self._path(upload.name)
        at = 0 if fresh else self.upload_state(upload.name, upload.upload_id).offset
        failures = 0
        while at < total:
            data = read(at, min(chunk, total - at))
            params = {"upload_id": upload.upload_id, "offset": at}
            try:
                response = self._api.request("PUT", path, params=params, content=data)
            except (ServerUnreachable, InvalidState):
                # Lost on the way, or arrived but its answer was lost: ask where it stands.
                failures += 1
                if failures > self.retries:
                    raise
                time.sleep(self.retry_wait_s * 2 ** (failures - 1))
                at = self.upload_state(upload.name, upload.upload_id).offset
                continue
            failures = 0
            at = int(response.json()["offset"])
            if progress is not None:
                progress(at, total)
        self._commit(upload, total)

    def _commit(self, upload: Upload, total: int) -> None:
        path = self._path(upload.name, "/commit")
        params = {"upload_id": upload.upload_id, "size": total}
        try:
            self._retrying(lambda: self._api.request("POST", path, params=params))
        except NotFound:
            # A commit whose answer was lost, sent again: the file is in place already.
            if not (self.exists(upload.name) and self.size(upload.name) == total):
                raise

    def append_bytes(self, data: bytes, name: str) -> None:
        """Append to a file, creating it. Each request says where its bytes start in the
        file (``offset``, counted by this store from the file's size when it first
        appends to it), so a request sent again after a lost answer (the server killed,
        the connection cut) adds nothing twice; a caller that tries again after an error
        (a run's log streamer) may send the failed bytes again with more behind them.
        When another writer appended meanwhile, the bytes go at the file's end."""
        path = self._path(name, "/append")
        with self._append_lock:
            offset = self._append_offsets.get(name)
        if offset is None:
            offset = self.size(name) if self.exists(name) else 0
        for at in range(0, max(len(data), 1), self.chunk_bytes):
            piece = data[at : at + self.chunk_bytes]
            try:
                self._append_piece(path, piece, offset)
            except InvalidState:  # another writer appended: go on from the file's end
                offset = self.size(name) if self.exists(name) else 0
                self._append_piece(path, piece, offset)
            offset += len(piece)
            with self._append_lock:  # kept per piece: a caller's retry resumes here
                self._append_offsets[name] = offset

    def _append_piece(self, path: str, piece: bytes, offset: int) -> None:
        params = {"offset": offset}
        self._retrying(lambda: self._api.request("POST", path, content=piece, params=params))

    def copy(self, source: str, target: str) -> None:
        self._forget_appends(target)
        path = self._path(target, "/copy")
        params = {"source": check_relpath(source)}
        self._retrying(lambda: self._api.request("POST", path, params=params))

    def delete(self, prefix: str) -> None:
        if prefix in ("", "."):
            raise InvalidArgument(
                "Deleting every file of a served workspace is not done through the API; "
                "name a folder or a file."
            )
        self._forget_appends(prefix)
        path = self._path(prefix)
        self._retrying(lambda: self._api.request("DELETE", path))

    # -- reading ----------------------------------------------------------------------
    def get_file(self, name: str, local_path: str, *, progress: Progress | None = None) -> None:
        """Download a file; the local file appears whole or not at all.

        Raises:
            NotFound: no such file on the server.
            BackendError: the server could not be reached after the retries.
        """
        target = os.path.abspath(local_path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = temporaries.temporary_for(target)
        try:
            with open(tmp, "wb") as fh:
                for _ in self._download(name, fh.write, progress):
                    fh.seek(0)  # the file changed on the server: start over
                    fh.truncate()
            os.replace(tmp, target)
        except OSError as exc:
            raise BackendError(f"Could not download {name!r} to {local_path!r}: {exc}") from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def read_bytes(self, name: str) -> bytes:
        received = bytearray()
        for _ in self._download(name, received.extend, None):
            received.clear()
        return bytes(received)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        headers = {"Range": f"bytes={start}-{start + length - 1}"}
        path = self._path(name)
        try:
            response = self._retrying(lambda: self._api.request("GET", path, headers=headers))
        except InvalidArgument:
            if start >= self.size(name):  # 416: nothing there past the end
                return b""
            # The file grew between the two requests (a log being appended): read again.
            response = self._retrying(lambda: self._api.request("GET", path, headers=headers))
        return response.content

    def _download(
        self, name: str, sink: Callable[[bytes], object], progress: Progress | None
    ) -> Iterator[None]:
        """Stream ``name`` into ``sink``, resuming after broken connections; yields each
        time the sink must be emptied because the file changed on the server."""
        path = self._path(name)
        received, total, failures = 0, -1, 0
        while total < 0 or received < total:
            headers = {"Range": f"bytes={received}-"} if received else {}
            try:
                with self._api.stream("GET", path, headers=headers) as response:
                    size = _total_size(response)
                    if total >= 0 and size != total:  # changed since we began
                        yield
                        received, total = 0, size
                        continue
                    total = size
                    for piece in response.iter_bytes():  # as it arrives: resumes lose little
                        sink(piece)
                        received += len(piece)
                        if progress is not None:
                            progress(received, total)
                    if received < total:  # the server ended short: the file shrank
                        raise ServerUnreachable(f"{name!r} ended at {received} of {total}.")
            except ServerUnreachable:
                failures += 1
                if failures > self.retries:
                    raise
                time.sleep(self.retry_wait_s * 2 ** (failures - 1))

    def list(self, prefix: str = "") -> builtins.list[str]:
        params = {"prefix": prefix} if prefix else None
        response = self._retrying(lambda: self._api.request("GET", self._base, params=params))
        files: builtins.list[str] = response.json()["files"]
        return files

    def describe(self, prefix: str = "") -> builtins.list[tuple[str, int, str]]:
        """The files under ``prefix`` with their sizes and change tags, as the server lists
        its storage (the node needs no storage credentials to tell a changed file)."""
        params = {"prefix": prefix, "detail": "true"}
        response = self._retrying(lambda: self._api.request("GET", self._base, params=params))
        return [(str(n), int(s), str(t)) for n, s, t in response.json()["entries"]]

    def exists(self, name: str) -> bool:
        try:
            self.size(name)
        except NotFound:
            return False
        return True

    def size(self, name: str) -> int:
        path = self._path(name)
        response = self._retrying(lambda: self._api.request("HEAD", path))
        return int(response.headers["content-length"])

    def close(self) -> None:
        self._api.close()


def _total_size(response: httpx.Response) -> int:
    """The whole file's size: from ``Content-Range`` on a 206, else ``Content-Length``."""
    content_range = response.headers.get("content-range")
    if content_range:
        return int(content_range.rsplit("/", 1)[-1])
    return int(response.headers.get("content-length", "0"))

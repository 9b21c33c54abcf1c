"""Resumable uploads into an ArtifactStore: a file arrives in chunks, possibly over many
requests and after broken connections, and appears under its name whole or not at all.

An upload is a temporary that only grows: ``begin`` creates it, each chunk is written at
the offset the sender names (which must be the temporary's size, so a chunk sent twice or
out of order is refused, never written twice), and ``commit`` checks the size and moves
it in place. Its state is the temporary itself, so any process serving the store (several
server workers) can take the next chunk, and an upload survives a server restart.

- On a local root the temporary is ``NAME.ry~tmp-ID`` beside the target: a commit is a
  rename, and the store's own cleaning (``clean_temporaries``, the next write of NAME)
  removes uploads untouched for :data:`~runyard.artifacts.temporaries.STALE_AFTER_S`.
- On an object store it is a file in ``staging`` (a folder on the server's disk), sent
  whole with ``put_file`` on commit.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from runyard.artifacts import temporaries
from runyard.artifacts.paths import check_relpath, join_safe
from runyard.artifacts.store import ArtifactStore
from runyard.errors import BackendError, InvalidArgument, InvalidState, NotFound

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class UploadState:
    """Where an upload stands: the bytes received so far (the next chunk's offset)."""

    name: str
    upload_id: str
    offset: int


class ChunkWriter:
    """Writes one chunk of an upload; :meth:`Uploads.chunk` hands it out, locked."""

    def __init__(self, fd: int, offset: int) -> None:
        self._fd = fd
        self.start = offset
        self.offset = offset

    def write(self, data: bytes) -> None:
        self.write_pieces([data])

    def write_pieces(self, pieces: list[bytes]) -> None:
        """Write ``pieces`` one after the other with one system call (``pwritev``, no
        joining copy) where the system takes them all at once."""
        total = sum(len(p) for p in pieces)
        written = os.pwritev(self._fd, pieces, self.offset) if pieces else 0
        self.offset += written
        if written == total:
            return
        rest = memoryview(b"".join(pieces))[written:]  # a short write: the slow way
        while rest:
            done = os.pwrite(self._fd, rest, self.offset)
            self.offset += done
            rest = rest[done:]

    def undo(self) -> None:
        """Take back every byte of this chunk (a refused chunk leaves nothing)."""
        os.ftruncate(self._fd, self.start)
        self.offset = self.start


class Uploads:
    """The resumable uploads of one store.

    Args:
        store: where committed files go.
        staging: a folder on this machine for the uploads of a store whose root is not a
            local folder (created when first needed).
    """

    def __init__(self, store: ArtifactStore, staging: str) -> None:
        self._store = store
        self._staging = staging

    def _temporary(self, name: str, upload_id: str) -> str:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise InvalidArgument(f"{upload_id!r} is not an upload id (32 hexadecimal digits).")
        root = self._store.local_path("")
        if root is not None:
            return join_safe(root, name) + temporaries.TEMPORARY + upload_id
        # The name's hash ties the upload to its file: an id given with another name
        # finds nothing.
        digest = hashlib.sha256(check_relpath(name).encode()).hexdigest()[:24]
        return os.path.join(self._staging, f"{digest}{temporaries.TEMPORARY}{upload_id}")

    def begin(self, name: str) -> UploadState:
        """Start an upload of ``name`` (nothing is visible under it until the commit).

        Raises:
            InvalidArgument: an unsafe name.
        """
        upload_id = uuid.uuid4().hex
        path = self._temporary(name, upload_id)
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            if self._store.local_path("") is None:  # uploads nobody finished
                temporaries.remove_stale_local(
                    folder, prefix="", older_than_s=temporaries.STALE_AFTER_S
                )
            with open(path, "xb"):
                pass
        except OSError as exc:
            raise BackendError(f"Could not start an upload of {name!r}: {exc}") from exc
        return UploadState(check_relpath(name), upload_id, 0)

    def state(self, name: str, upload_id: str) -> UploadState:
        """How many bytes upload ``upload_id`` of ``name`` holds.

        Raises:
            NotFound: no such upload (never begun, committed, aborted, or removed after it
                was left untouched for 15 minutes).
        """
        try:
            size = os.stat(self._temporary(name, upload_id)).st_size
        except FileNotFoundError as exc:
            raise self._missing(name, upload_id) from exc
        return UploadState(check_relpath(name), upload_id, size)

    @contextlib.contextmanager
    def chunk(self, name: str, upload_id: str, offset: int) -> Iterator[ChunkWriter]:
        """Write the next chunk of an upload, which must start at its current size.

        Raises:
            NotFound: no such upload.
            InvalidState: ``offset`` is not where the upload stands, or another request is
                writing this upload now.
        """
        path = self._temporary(name, upload_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError as exc:
            raise self._missing(name, upload_id) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise InvalidState(
                    f"Another request is writing upload {upload_id} of {name!r} now; "
                    "send one chunk at a time."
                ) from exc
            size = os.fstat(fd).st_size
            if offset != size:
                raise InvalidState(
                    f"Upload {upload_id} of {name!r} holds {size} bytes; the next chunk "
                    f"starts at offset {size}, not {offset}."
                )
            yield ChunkWriter(fd, offset)
        finally:
            os.close(fd)  # also releases the lock

    def commit(self, name: str, upload_id: str, size: int) -> int:
        """Move a whole upload in place under ``name`` and return its size.

        Raises:
            NotFound: no such upload.
            InvalidState: the upload does not hold ``size`` bytes (nothing is moved).
        """
        path = self._temporary(name, upload_id)
        try:
            held = os.stat(path).st_size
        except FileNotFoundError as exc:
            raise self._missing(name, upload_id) from exc
        if held != size:
            raise InvalidState(
                f"Upload {upload_id} of {name!r} holds {held} bytes, not the {size} the "
                "commit names; send the missing chunks from offset "
                f"{held} first."
            )
        root = self._store.local_path("")
        try:
            if root is not None:
                target = join_safe(root, name)
                if os.path.isdir(target):
                    raise InvalidState(f"{name!r} is a folder; a file cannot replace it.")
                os.replace(path, target)
            else:
                self._store.put_file(path, name)
                os.unlink(path)
        except OSError as exc:
            raise BackendError(f"Could not store the upload of {name!r}: {exc}") from exc
        return held

    def abort(self, name: str, upload_id: str) -> None:
        """Drop an upload (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temporary(name, upload_id))

    def _missing(self, name: str, upload_id: str) -> NotFound:
        return NotFound(
            f"No upload {upload_id} of {name!r}: it was committed or aborted, never begun, "
            "or left untouched long enough to be cleaned; start a new one."
        )

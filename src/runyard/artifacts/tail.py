"""Reading what was appended to a growing artifact (a run's log) since the last look."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard.errors import NotFound

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore


#: The most one look reads (the rest comes with the next).
_MOST_PER_READ = 64 * 1024 * 1024


class LogTail:
    """Reads what was appended to the artifact ``key`` since the last read.

    On a local store the file is read from the last offset; elsewhere what follows the
    offset is asked for (a range request through a server; object stores read the object
    and skip the part already seen).

    Args:
        store: the artifact store.
        key: the artifact's full name (``runs/<id>/files/runyard-logs/driver.txt``).
    """

    def __init__(self, store: ArtifactStore, key: str) -> None:
        self._store = store
        self.key = key
        self.offset = 0

    def read_new(self) -> bytes:
        """The bytes appended since the last call (empty when none, or no file yet)."""
        local = self._store.local_path(self.key)
        data: bytes
        if local is not None:
            try:
                with open(local, "rb") as fh:
                    fh.seek(self.offset)
                    data = fh.read()
            except FileNotFoundError:
                return b""
        else:
            try:
                data = self._store.read_range(self.key, self.offset, _MOST_PER_READ)
            except (NotFound, FileNotFoundError):
                return b""
        self.offset += len(data)
        return data

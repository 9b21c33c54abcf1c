"""Streaming a running script's output and ``./logs`` folder into the run's files.

- :class:`LogSink` buffers bytes and appends them to one run file every ``flush_seconds``
  (``runyard-logs/driver.txt``, ``runyard-logs/executor.txt``), so a reader follows the log
  while the script runs, with one store write per interval rather than per line.
- :class:`PipePump` reads a pipe in a thread into a sink, keeping the last bytes (the tail
  of stderr goes into the error of a failed run); :class:`OutputPump` reads a process's
  stdout and stderr in one thread, in the order they come.
- :class:`FolderMirror` uploads the files of a local folder (``./logs``) that are new or
  changed since the last call.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore

TAIL_BYTES = 64 * 1024


class LogSink:
    """Appends bytes to one artifact ``name``, batched by a flusher thread.

    Args:
        store: the artifact store.
        name: the full artifact name (``runs/<id>/files/runyard-logs/driver.txt``).
        flush_seconds: how often buffered bytes are written.
        echo: also write every chunk to this binary stream (the executor's own output).
        spool: also append every chunk at once to this local file, so that what the
            buffer held when the executor died can still be recovered (see
            :func:`recover_from_spool`).
    """

    def __init__(
        self,
        store: ArtifactStore,
        name: str,
        flush_seconds: float = 0.5,
        echo: IO[bytes] | None = None,
        spool: str | None = None,
    ) -> None:
        self._store = store
        self.spool = spool
        self._spool_file: IO[bytes] | None = None
        self.name = name
        self._flush_seconds = flush_seconds
        self._echo = echo
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def start(self) -> LogSink:
        if self.spool is not None:
            self._spool_file = open(self.spool, "ab", buffering=0)  # noqa: SIM115
        self._thread = threading.Thread(target=self._loop, name="runyard-log-sink", daemon=True)
        self._thread.start()
        return self

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self._buffer += data
            if self._spool_file is not None:
                with contextlib.suppress(OSError):
                    self._spool_file.write(data)
        if self._echo is not None:
            with contextlib.suppress(OSError, ValueError):
                self._echo.write(data)
                self._echo.flush()

    def line(self, text: str) -> None:
        self.write((text.rstrip("\n") + "\n").encode("utf-8", errors="replace"))

    def flush(self) -> None:
        """Write what is buffered now."""
        with self._write_lock:
            with self._lock:
                data = bytes(self._buffer)
                self._buffer.clear()
            if not data:
                return
            try:
                self._store.append_bytes(data, self.name)
            except Exception as exc:  # a store hiccup must not kill the run; retried next tick
                with self._lock:
                    self._buffer[:0] = data
                if len(self.errors) < 10:
                    self.errors.append(f"{type(exc).__name__}: {exc}")

    def _loop(self) -> None:
        while not self._closed.wait(self._flush_seconds):
            self.flush()

    def close(self) -> None:
        """Stop the flusher and write the rest."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        if self._spool_file is not None:
            self._spool_file.close()
            self._spool_file = None


def recover_from_spool(store: ArtifactStore, name: str, spool: str) -> int:
    """Append to the artifact ``name`` what its local spool holds beyond it (the bytes an
    executor had not flushed when it died). Returns how many bytes were added."""
    try:
        size = store.size(name) if store.exists(name) else 0
        with open(spool, "rb") as fh:
            fh.seek(size)
            rest = fh.read()
    except OSError:
        return 0
    if rest:
        store.append_bytes(rest, name)
    return len(rest)


class PipePump:
    """Copies a pipe into a sink in a thread, keeping its last :data:`TAIL_BYTES`."""

    def __init__(self, pipe: IO[bytes], sink: LogSink, keep_tail: bool = False) -> None:
        self._pipe = pipe
        self._sink = sink
        self._keep_tail = keep_tail
        self.tail = bytearray()
        self._thread = threading.Thread(target=self._loop, name="runyard-pipe", daemon=True)

    def start(self) -> PipePump:
        self._thread.start()
        return self

    def _loop(self) -> None:
        fd = self._pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self._sink.write(chunk)
            if self._keep_tail:
                self.tail += chunk
                if len(self.tail) > 2 * TAIL_BYTES:
                    del self.tail[:-TAIL_BYTES]
        with contextlib.suppress(OSError):
            self._pipe.close()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def tail_text(self, max_lines: int = 40, max_chars: int = 4000) -> str:
        """The last lines read, decoded."""
        text = bytes(self.tail[-TAIL_BYTES:]).decode("utf-8", errors="replace")
        lines = text.rstrip().splitlines()[-max_lines:]
        return "\n".join(lines)[-max_chars:]


class OutputPump:
    """Copies a process's stdout and stderr into one sink in one thread, keeping stderr's
    last :data:`TAIL_BYTES`.

    One thread, because two (one a pipe) race: a line the script printed just before its
    traceback could land after it. When both pipes have something at once, stdout's goes
    first. (Where pipes cannot be waited on together, Windows, it is two PipePumps.)
    """

    def __init__(self, stdout: IO[bytes], stderr: IO[bytes], sink: LogSink) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self._sink = sink
        self.tail = bytearray()
        self._thread = threading.Thread(target=self._loop, name="runyard-output", daemon=True)
        self._pumps: list[PipePump] = []

    def start(self) -> OutputPump:
        if os.name == "nt":
            err = PipePump(self._stderr, self._sink, keep_tail=True)
            self._pumps = [PipePump(self._stdout, self._sink).start(), err.start()]
            self.tail = err.tail
        else:
            self._thread.start()
        return self

    def _loop(self) -> None:
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self._stdout.fileno(), selectors.EVENT_READ, 0)
            selector.register(self._stderr.fileno(), selectors.EVENT_READ, 1)
            while selector.get_map():
                ready = sorted(selector.select(), key=lambda pair: int(pair[0].data))
                for key, _events in ready:
                    try:
                        chunk = os.read(key.fd, 65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        selector.unregister(key.fd)
                        continue
                    self._sink.write(chunk)
                    if key.data == 1:
                        self.tail += chunk
                        if len(self.tail) > 2 * TAIL_BYTES:
                            del self.tail[:-TAIL_BYTES]
        for pipe in (self._stdout, self._stderr):
            with contextlib.suppress(OSError):
                pipe.close()

    def join(self, timeout: float | None = None) -> None:
        for pump in self._pumps:
            pump.join(timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def tail_text(self, max_lines: int = 40, max_chars: int = 4000) -> str:
        """The last lines read from stderr, decoded."""
        text = bytes(self.tail[-TAIL_BYTES:]).decode("utf-8", errors="replace")
        lines = text.rstrip().splitlines()[-max_lines:]
        return "\n".join(lines)[-max_chars:]


class FolderMirror:
    """Uploads new and changed files of ``folder`` as ``<prefix>/<relative path>``.

    Args:
        store: the artifact store.
        folder: the local folder (it may not exist yet).
        prefix: the artifact folder (``runs/<id>/files/logs``).
    """

    def __init__(self, store: ArtifactStore, folder: str, prefix: str) -> None:
        self._store = store
        self._folder = folder
        self._prefix = prefix
        self._seen: dict[str, tuple[int, int]] = {}
        self.errors: list[str] = []

    def sync(self) -> int:
        """Upload what changed; returns how many files were uploaded."""
        from runyard.artifacts.paths import check_relpath

        if not os.path.isdir(self._folder):
            return 0
        uploaded = 0
        for dirpath, dirnames, filenames in os.walk(self._folder):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self._folder).replace(os.sep, "/")
                try:
                    if os.path.islink(full):
                        continue  # links could point anywhere; logs are plain files
                    st = os.stat(full)
                    stamp = (st.st_size, st.st_mtime_ns)
                    if self._seen.get(rel) == stamp:
                        continue
                    self._store.put_file(full, f"{self._prefix}/{check_relpath(rel)}")
                    self._seen[rel] = stamp
                    uploaded += 1
                except Exception as exc:  # a file vanishing or a bad name: keep mirroring others
                    if len(self.errors) < 10:
                        self.errors.append(f"{rel}: {exc}")
        return uploaded

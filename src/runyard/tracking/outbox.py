"""The metric outbox: batches a team server has not taken yet, kept on disk until it does.

Why: a run on a laptop or a node logs to a server over a network that can drop, and the
server can be restarted. ``run.log`` must stay a ``deque.append`` for the caller and no
value it accepted may be lost or stored twice. The metric buffer's writer thread hands
each batch to :meth:`MetricOutbox.write`, which

- gives the batch an id (``uuid4().hex``) that the server stores with it, so a batch sent
  again after a lost answer lands once (``log_metrics(batch_id=...)``);
- sends it (the REST store retries a transient failure for about 2 s);
- when the server stays away, writes it to a file in the outbox folder instead, and a
  sender thread sends the files in order, with backoff, until the server takes them.
  While files wait, new batches queue behind them on disk, so logging order holds.

Each file holds one batch (``{"batch_id", "batch"}``, the batch in the metric wire format)
and is written crash-consistently: to a temporary name, ``fsync``, renamed into place and
the folder ``fsync``-ed, so a file is either whole or absent. It is removed only after the
server acknowledged it. Files left by a process that exited (the server was still away)
are sent by the next process that opens the outbox of the same server and workspace;
two processes sending the same file is harmless, because of the batch id.

A batch the server refuses for a reason retrying cannot fix (its run was deleted, the
token lost the right to write) is moved to ``rejected/`` in the folder and reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from runyard.entities.metric import MetricRecord
from runyard.rest_client import is_transient
from runyard.tracking.metric_wire import decode_records, encode_records

#: Send a batch: (records, batch id); raises what the store raises.
SendBatch = Callable[[list[MetricRecord], str], None]

#: Backoff of the sender thread while the server stays away (first and longest pause).
_FIRST_PAUSE_S = 0.5
_LONGEST_PAUSE_S = 5.0
_SUFFIX = ".batch.json"


def outbox_folder(root: str, server: str, workspace: str) -> str:
    """The outbox folder of one server's workspace under ``root`` (``Settings.outbox_dir``):
    a readable prefix and a hash, so that two servers never share one."""
    digest = hashlib.sha256(f"{server}\n{workspace}".encode()).hexdigest()[:16]
    readable = "".join(c if c.isalnum() or c in "-_" else "_" for c in workspace)[:40]
    return os.path.join(root, f"{readable}-{digest}")


@dataclass(frozen=True)
class OutboxState:
    """What waits in an outbox."""

    batches: int
    values: int
    folder: str
    last_error: str | None


class MetricOutbox:
    """The durable write path of a server workspace's metric buffer (see the module).

    Args:
        send: stores one batch with its id (the REST store's ``log_metrics``).
        folder: where waiting batches are kept (created with mode 0700 when needed).
        target: the server and workspace in words, for messages.
    """

    def __init__(self, send: SendBatch, folder: str, *, target: str) -> None:
        self._send = send
        self.folder = folder
        self.target = target
        self._lock = threading.Condition()
        self._files: list[str] = []  # waiting batch files, oldest first
        self._values: dict[str, int] = {}  # file -> values it holds
        self._last_error: BaseException | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self._adopt_leftovers()

    # -- the writer's side -------------------------------------------------------------
    def write(self, batch: list[MetricRecord]) -> None:
        """Store ``batch`` on the server, or keep it on disk when the server is away.

        Called by the buffer's writer (one thread at a time).

        Raises:
            What the server answers that retrying cannot fix (``NotFound``,
            ``InvalidArgument``...): the buffer reports those values.
            OSError: the server is away and the outbox cannot be written either.
        """
        batch_id = uuid.uuid4().hex
        with self._lock:
            behind_others = bool(self._files)
        if not behind_others:
            try:
                self._send(batch, batch_id)
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._last_error = exc
        self._keep(batch, batch_id)

    def _keep(self, batch: list[MetricRecord], batch_id: str) -> None:
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        # time_ns first: files sort in the order they were written, across processes.
        name = f"{time.time_ns():020d}-{os.getpid()}-{batch_id}{_SUFFIX}"
        final = os.path.join(self.folder, name)
        temporary = os.path.join(self.folder, f".{name}.tmp")
        data = json.dumps({"batch_id": batch_id, "batch": encode_records(batch)}).encode()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, final)
        _fsync_folder(self.folder)
        with self._lock:
            self._files.append(final)
            self._values[final] = len(batch)
            self._lock.notify_all()
        self._start_sender()

    @property
    def backlogged(self) -> bool:
        """Whether batches wait on disk (new ones then queue behind them)."""
        return bool(self._files)

    # -- waiting -----------------------------------------------------------------------
    def wait(self, timeout_s: float) -> bool:
        """Wait until every waiting batch is on the server, at most ``timeout_s``
        seconds; True when none waits."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._files:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.5))
        return True

    def state(self) -> OutboxState:
        """What waits now."""
        with self._lock:
            values = sum(self._values.get(f, 0) for f in self._files)
            batches = len(self._files)
        error = self._last_error
        reason = None if error is None else f"{type(error).__name__}: {error}"
        return OutboxState(batches, values, self.folder, reason)

    def unsent_message(self) -> str | None:
        """The warning for values still waiting (None when none waits)."""
        state = self.state()
        if not state.batches:
            return None
        why = f" The last attempt failed with {state.last_error}" if state.last_error else ""
        return (
            f"runyard: {state.values} metric values ({state.batches} batches) are not on "
            f"{self.target} yet.{why} They are kept in {state.folder} and are sent when the "
            "server answers again: by this process if it logs to the workspace again, else "
            "by the next Runyard process that logs to it. Nothing is lost while that folder "
            "stays."
        )

    def start(self) -> None:
        """Send what waits again after :meth:`close` (the buffer reopened)."""
        with self._lock:
            waiting = bool(self._files)
        if waiting:
            self._start_sender()

    def close(self) -> None:
        """Stop the sender thread (files that wait stay on disk) and wait for it to end."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    # -- the sender thread -------------------------------------------------------------
    def _adopt_leftovers(self) -> None:
        """Queue the batches an earlier process left (it ended with the server away)."""
        try:
            names = sorted(n for n in os.listdir(self.folder) if n.endswith(_SUFFIX))
        except FileNotFoundError:
            return
        if names:
            with self._lock:
                for n in names:
                    path = os.path.join(self.folder, n)
                    self._files.append(path)
                    self._values[path] = _count_values(path)
            self._start_sender()

    def _start_sender(self) -> None:
        with self._lock:
            self._closed = False  # a thread that is still there goes on sending
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="runyard-metric-outbox", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        pause = _FIRST_PAUSE_S
        while True:
            with self._lock:
                while not self._files and not self._closed:
                    self._lock.wait(1.0)
                if self._closed or not self._files:
                    return
                head = self._files[0]
            if self._send_file(head):
                pause = _FIRST_PAUSE_S
                continue
            with self._lock:  # the server is away: wait, unless told to stop
                if not self._closed:
                    self._lock.wait(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)

    def _send_file(self, path: str) -> bool:
        """Send one waiting file; False when the server is still away."""
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read())
            batch, batch_id = decode_records(data["batch"]), str(data["batch_id"])
        except FileNotFoundError:  # another process sent it
            self._done(path)
            return True
        except (ValueError, KeyError, TypeError) as exc:
            self._reject(path, exc)
            return True
        try:
            self._send(batch, batch_id)
        except Exception as exc:
            if is_transient(exc):
                self._last_error = exc
                return False
            self._reject(path, exc)
            return True
        self._last_error = None
        self._done(path)
        return True

    def _done(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # another process sent it first
            os.remove(path)
        with self._lock:
            if path in self._files:
                self._files.remove(path)
            self._values.pop(path, None)
            self._lock.notify_all()

    def _reject(self, path: str, exc: BaseException) -> None:
        rejected = os.path.join(self.folder, "rejected")
        target = os.path.join(rejected, os.path.basename(path))
        try:
            os.makedirs(rejected, mode=0o700, exist_ok=True)
            os.replace(path, target)
        except FileNotFoundError:
            pass
        except OSError as move_exc:
            target = f"{path} (could not be moved: {move_exc})"
        print(
            f"runyard: {self.target} refused a batch of metric values "
            f"({type(exc).__name__}: {exc}); it is kept in {target}.",
            file=sys.stderr,
        )
        with self._lock:
            if path in self._files:
                self._files.remove(path)
            self._values.pop(path, None)
            self._lock.notify_all()


def _count_values(path: str) -> int:
    """How many values a waiting file holds (0 when it cannot be read: it is reported
    when the sender gets to it)."""
    try:
        with open(path, "rb") as fh:
            return len(json.loads(fh.read())["batch"]["points"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` survive a crash of the machine."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

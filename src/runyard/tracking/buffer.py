"""The metric buffer: ``run.log`` appends to a queue, a background thread writes batches.

Why: a training loop calls ``run.log`` thousands of times; a database round trip per call
would dominate the loop. The hot path is one ``deque.append`` (thread-safe under the GIL);
the writer drains the queue every ``interval`` seconds and writes one transaction per batch.

Durability: ``flush()`` returns when everything appended before it is written. Buffers are
flushed when their run ends, at normal interpreter exit (``atexit``), and on SIGTERM (the
default SIGTERM action is replaced by ``SystemExit`` so that exit handlers run).

Values the store refuses or cannot be reached for are not dropped when the buffer has a
*spool* (a submitted run's script has one): they are appended to it
(:mod:`runyard.tracking.spool`) and the run's executor stores them after the script ends.
Without a spool they are reported on stderr and ``flush()`` raises.

A team server's workspace gives the buffer an *outbox* (:mod:`runyard.tracking.outbox`):
each batch carries an id so that a retry lands once, and batches the server cannot take
now wait on disk and are sent when it is back. ``flush()`` and ``close()`` then wait for
the outbox at most ``flush_timeout_s`` and warn on stderr, saying where the values are
kept, if some are still unsent.
"""

from __future__ import annotations

import atexit
import collections
import signal
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runyard.entities.metric import MetricKind, MetricRecord
from runyard.entities.validation import MAX_METRIC_BATCH
from runyard.tracking import spool

if TYPE_CHECKING:
    from runyard.tracking.outbox import MetricOutbox

#: (run_id, name, value, kind, step, logged_at): MetricRecord's field order.
PendingMetric = tuple[str, str, Any, MetricKind, "int | None", float]


#: Seconds between drains while the outbox holds batches (see ``MetricBuffer._pause``).
_BACKLOG_INTERVAL_S = 1.0

#: Single-record writes that fail in a row before a failed batch is given up as lost.
_GIVE_UP_AFTER = 5


class MetricBuffer:
    """Buffers metric records for one store and writes them from a daemon thread."""

    def __init__(
        self,
        write: Callable[[list[MetricRecord]], None],
        *,
        interval: float = 0.05,
        on_error: Callable[[BaseException], None] | None = None,
        spool: str | None = None,
        outbox: MetricOutbox | None = None,
        flush_timeout_s: float = 30.0,
    ) -> None:
        self._write = write if outbox is None else outbox.write
        self._outbox = outbox
        self._flush_timeout_s = flush_timeout_s
        self._spool = spool
        self._interval = interval
        self._on_error = on_error
        self._queue: collections.deque[PendingMetric] = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._last_error: BaseException | None = None
        # Flushed at normal interpreter exit: the writer thread is a daemon and would be
        # killed with values still queued. SIGTERM is the run context's business
        # (install_sigterm_exit), not a side effect of making a buffer.
        atexit.register(_flush_at_exit, weakref.ref(self))
        self._start()
        #: Queue one metric: the hot path is the deque's own C method, no Python frame.
        self.append: Callable[[PendingMetric], None] = self._queue.append

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                thread = threading.Thread(
                    target=self._run, name="runyard-metric-writer", daemon=True
                )
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._pause())
            self._wake.clear()
            self._drain()
        self._drain()

    def _pause(self) -> float:
        """Seconds until the next drain: longer while the outbox holds batches (the
        server is away), so that an outage leaves a few large files on disk rather than
        twenty small ones a second, and catching up takes few requests."""
        if self._outbox is not None and self._outbox.backlogged:
            return max(self._interval, _BACKLOG_INTERVAL_S)
        return self._interval

    def _drain(self) -> None:
        """Write everything queued now, in batches; called from the writer thread or from
        ``flush`` on the caller's thread (serialised by ``_lock``)."""
        with self._lock:
            queue = self._queue
            while queue:
                pop = queue.popleft
                make = MetricRecord._make
                batch = [make(pop()) for _ in range(min(len(queue), MAX_METRIC_BATCH))]
                try:
                    self._write(batch)
                except BaseException as exc:  # keep the writer alive; report, never hang
                    failed = self._write_one_by_one(batch) if len(batch) > 1 else batch
                    if failed:
                        self._keep(exc, failed)

    def _write_one_by_one(self, batch: list[MetricRecord]) -> list[MetricRecord]:
        """After a batch failed: write its records singly, so that one record the store
        refuses costs only itself. Gives up after a few failures in a row (the store is
        down, not one record bad). The records not written."""
        failed: list[MetricRecord] = []
        failed_in_a_row = 0
        for i, record in enumerate(batch):
            try:
                self._write([record])
                failed_in_a_row = 0
            except BaseException:
                failed.append(record)
                failed_in_a_row += 1
                if failed_in_a_row >= _GIVE_UP_AFTER:
                    return failed + batch[i + 1 :]
        return failed

    def _keep(self, exc: BaseException, failed: list[MetricRecord]) -> None:
        """Spool the records the store did not take; report those that are lost."""
        kept = 0
        if self._spool is not None:
            try:
                kept = spool.append(self._spool, failed)
            except OSError as spool_exc:
                print(
                    f"runyard: could not keep metric values in {self._spool}: {spool_exc}",
                    file=sys.stderr,
                )
        if kept:
            print(
                f"runyard: could not write {kept} metric values ({type(exc).__name__}: "
                f"{exc}); kept in {self._spool}: the run's executor stores them when the "
                "script ends",
                file=sys.stderr,
            )
        lost = len(failed) - kept
        if lost:
            self._report(exc, lost)

    def _report(self, exc: BaseException, lost: int) -> None:
        self._last_error = exc
        if self._on_error is not None:
            self._on_error(exc)
        else:
            print(f"runyard: could not write {lost} metric values: {exc}", file=sys.stderr)

    def flush(self) -> None:
        """Write everything appended so far; returns when it is in the store.

        With an outbox, waits at most ``flush_timeout_s`` for the server to take what
        waits on disk, and warns on stderr (where the values are kept) if it did not.

        Raises the store's error if the last write failed.
        """
        self._drain()
        self._settle()
        error, self._last_error = self._last_error, None
        if error is not None:
            raise error

    @property
    def closed(self) -> bool:
        return self._closed

    def reopen(self) -> None:
        """Start the writer again after ``close`` (the queue, and so ``append``, stay)."""
        with self._lock:
            self._closed = False
            self._thread = None
        self._start()
        if self._outbox is not None:
            self._outbox.start()

    def close(self) -> None:
        """Flush and stop the writer thread. Appending later still works: ``flush`` or
        ``reopen`` writes what was appended."""
        if self._closed:
            self._drain()
            return
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self._drain()
        self._settle()
        if self._outbox is not None:
            self._outbox.close()

    def _settle(self) -> None:
        """Wait (bounded) for the outbox to be empty; warn with what is left."""
        outbox = self._outbox
        if outbox is None or outbox.wait(self._flush_timeout_s):
            return
        message = outbox.unsent_message()
        if message:
            print(message, file=sys.stderr)

    def pending(self) -> int:
        return len(self._queue)


def _flush_at_exit(ref: weakref.ref[MetricBuffer]) -> None:
    buffer = ref()
    if buffer is not None:
        try:
            buffer.close()
        except Exception as exc:  # interpreter is exiting: report, do not raise
            print(f"runyard: metrics not written at exit: {exc}", file=sys.stderr)


def _sigterm_to_exit(signum: int, frame: Any) -> None:
    # SystemExit unwinds the stack, so `with` blocks end their runs and atexit flushes.
    raise SystemExit(128 + signum)


def install_sigterm_exit() -> None:
    """Make SIGTERM exit through Python (so buffers flush and ``with`` blocks end their runs)
    unless someone else handles it. Called by the run context: ``Run.get_context()`` in a
    submitted run's script and ``Experiment.start_logging()``; a process that only reads or
    hosts buffers (a server) keeps its own SIGTERM handling."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _sigterm_to_exit)
    except (ValueError, OSError):  # not allowed here (embedded interpreter): keep default
        return

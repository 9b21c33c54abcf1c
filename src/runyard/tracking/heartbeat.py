"""A run's heartbeat: proof, every few seconds, that the process carrying it lives.

The executor beats for submitted runs; a run started with ``start_logging()`` beats from a
daemon thread of the process that started it, so a notebook or script killed with SIGKILL
leaves a run that the liveness sweeper (:mod:`runyard.node.liveness`) ends as Failed
instead of one that stays Running forever.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runyard.tracking.store import TrackingStore

# A process that forks while a heartbeat is inside the database driver would give its child
# a driver lock held forever (SQLite's connect then hangs in the child). Beats hold this
# lock while they write, and fork waits for it: a beat is never half-done at a fork.
_WRITING = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_WRITING.acquire,
        after_in_parent=_WRITING.release,
        after_in_child=_WRITING.release,
    )


class Heartbeat:
    """Updates ``heartbeat_at`` of ``run_id`` every ``interval_s`` seconds until stopped.

    Args:
        store: the run's store.
        run_id: the run.
        interval_s: seconds between beats.
    """

    def __init__(self, store: TrackingStore, run_id: str, interval_s: float) -> None:
        self._store = store
        self._run_id = run_id
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"runyard-heartbeat-{run_id}", daemon=True
        )

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with _WRITING:
                    record = self._store.update_run(self._run_id, heartbeat_at=time.time())
            except Exception:  # the store may be busy for a moment; beat again next time
                continue
            if record.is_terminal:
                return

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def stop(self, wait: bool = False) -> None:
        """Stop beating (idempotent); with ``wait``, return once the thread is done with
        the store (before the store is closed)."""
        self._stop.set()
        if wait and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

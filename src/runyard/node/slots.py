"""Run slots of a named local target: at most N runs at once, oldest first, no daemon.

Each slot is a lock file ``<slots dir>/slot-<i>.lock``; an executor holds one while its run
prepares and runs, and the OS releases it if the executor dies. Waiting executors take
turns in submission order: one tries the locks only when no older queued run of the same
target is alive and waiting.

The local backend hands the slots to the executor in ``RUNYARD_LOCAL_SLOTS`` as
``<max runs>:<slots dir>``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from runyard.entities.run import RunRecord, RunStatus
from runyard.node import local_record, processes

if TYPE_CHECKING:
    from runyard.tracking.store import TrackingStore

SLOTS_ENV = "RUNYARD_LOCAL_SLOTS"
POLL_SECONDS = 0.2


def slots_dir(scratch: str, tracking_uri: str, target: str) -> str:
    """The slot folder of ``target`` in the workspace at ``tracking_uri``, on this machine."""
    key = hashlib.sha256(tracking_uri.encode("utf-8")).hexdigest()[:16]
    return os.path.join(scratch, ".slots", key, target)


def encode(max_runs: int, folder: str) -> str:
    return f"{max_runs}:{folder}"


def decode(value: str) -> tuple[int, str]:
    count, _, folder = value.partition(":")
    return int(count), folder


class SlotWaiter:
    """Waits for a free slot, in turn.

    Args:
        store: the tracking store (to see older queued runs).
        run_id: the run that waits.
        target: its target's name.
        max_runs: how many slots the target has.
        folder: the slot folder.
        alive_within: seconds: a queued run counts as waiting when it beat that recently.
    """

    def __init__(
        self,
        store: TrackingStore,
        run_id: str,
        target: str,
        max_runs: int,
        folder: str,
        alive_within: float,
        scratch_dir: str | None = None,
    ) -> None:
        self._scratch = scratch_dir
        self._store = store
        self._run_id = run_id
        self._target = target
        self._max = max_runs
        self._folder = folder
        self._alive_within = alive_within
        self._lock: FileLock | None = None

    def _holds_the_line(self, other: RunRecord, now: float) -> bool:
        """Whether an older queued run is really waiting: its executor runs (checked on
        this node, from this node's own record), or beat recently, or is being launched."""
        mine = local_record.read(self._scratch, other.run_id) if self._scratch else None
        if mine is not None and mine.executor_pid is not None:
            return processes.process_alive(mine.executor_pid, mine.executor_start)
        last = other.heartbeat_at if other.heartbeat_at is not None else other.created_at
        return now - last <= self._alive_within

    def _my_turn(self) -> bool:
        mine = self._store.get_run(self._run_id)
        now = time.time()
        for other in self._store.list_runs(statuses=[RunStatus.QUEUED], target=self._target):
            if other.run_id == self._run_id:
                continue
            older = (other.created_at, other.run_id) < (mine.created_at, mine.run_id)
            if older and self._holds_the_line(other, now):
                return False
        return True

    def _try_slots(self) -> bool:
        os.makedirs(self._folder, exist_ok=True)
        for i in range(self._max):
            lock = FileLock(os.path.join(self._folder, f"slot-{i}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            self._lock = lock
            return True
        return False

    def wait(self, stop: Callable[[], bool], on_wait: Callable[[], None] | None = None) -> bool:
        """Block until a slot is held (True) or ``stop()`` says to give up (False)."""
        announced = False
        while not stop():
            if self._my_turn() and self._try_slots():
                return True
            if not announced and on_wait is not None:
                on_wait()
                announced = True
            time.sleep(POLL_SECONDS)
        return False

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

"""Liveness of submitted runs: a run whose executor died is marked Failed, never left active.

An executor records where it runs (``details["executor"]``: host, pid, the pid's start
time) and updates ``heartbeat_at`` every ``RUNYARD_HEARTBEAT_S`` seconds. A reader that finds
an active run whose last sign of life (heartbeat, else launch) is older than
``RUNYARD_HEARTBEAT_TIMEOUT_S`` checks, when it is on the executor's host, that the process is
really gone; then it stops what is left of the run's script and marks the run Failed with
"executor stopped heart-beating at ...". ``Run.get_status``, ``Run.get_details`` and
``wait_for_completion`` call :func:`check_liveness`; listings should too.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runyard.entities.run import RunRecord, RunStatus
from runyard.errors import InvalidArgument, InvalidState

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace

HEARTBEAT_ENV = "RUNYARD_HEARTBEAT_S"
TIMEOUT_ENV = "RUNYARD_HEARTBEAT_TIMEOUT_S"
EXECUTOR_LOST = "ExecutorLost"


def _positive(env: str, default: float) -> float:
    raw = os.environ.get(env)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InvalidArgument(f"{env}={raw!r} is not a positive number of seconds.")
    return value


@dataclass(frozen=True)
class LivenessSettings:
    """How often executors beat and how long readers wait before declaring one dead.

    Attributes:
        interval: seconds between heartbeats (``RUNYARD_HEARTBEAT_S``, default 5).
        timeout: seconds without a heartbeat after which an executor is dead
            (``RUNYARD_HEARTBEAT_TIMEOUT_S``, default 30; at least twice the interval).
    """

    interval: float = 5.0
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> LivenessSettings:
        interval = _positive(HEARTBEAT_ENV, 5.0)
        timeout = _positive(TIMEOUT_ENV, 30.0)
        return cls(interval=interval, timeout=max(timeout, 2 * interval))


def last_sign_of_life(record: RunRecord) -> float | None:
    """When the run's executor last showed it was alive (heartbeat, else launch)."""
    if record.heartbeat_at is not None:
        return record.heartbeat_at
    executor = record.details.get("executor") or {}
    launched = executor.get("launchedAt")
    return float(launched) if launched is not None else None


def executor_is_gone(record: RunRecord) -> bool:
    """Whether the run's executor process is known to be gone. On another host than the
    executor's, the heartbeat is all there is, so it is taken as gone."""
    from runyard.compute import node

    executor = record.details.get("executor") or {}
    pid = executor.get("pid")
    if executor.get("host") != node.hostname() or not isinstance(pid, int):
        return True
    return not node.process_alive(pid, executor.get("pidStart"))


def check_liveness(
    workspace: Workspace, record: RunRecord, settings: LivenessSettings | None = None
) -> RunRecord:
    """``record``, or, when its executor has died, the record after marking it Failed.

    Only submitted runs whose executor has started (or been launched) are judged: a run
    still waiting in a cluster's queue has no executor yet.
    """
    if record.is_terminal or record.run_type != "submitted":
        return record
    last = last_sign_of_life(record)
    if last is None:
        return record
    settings = settings or LivenessSettings.from_env()
    silent = time.time() - last
    if silent <= settings.timeout or not executor_is_gone(record):
        return record
    _stop_leftover_script(record)
    _recover_driver_log(workspace, record)
    when = _dt.datetime.fromtimestamp(last, tz=_dt.timezone.utc).isoformat(timespec="seconds")
    error = {
        "code": EXECUTOR_LOST,
        "message": (
            f"The run's executor stopped heart-beating at {when} (silent for {silent:.0f} s, "
            f"limit {settings.timeout:.0f} s) and its process is gone, so the run was marked "
            "Failed. Its logs and metrics up to then are kept. Look at the executor's output "
            "(runyard-logs/executor.txt) and the machine's logs (out of memory?)."
        ),
    }
    if record.status == RunStatus.CANCEL_REQUESTED:  # it died on its way out: canceled
        final = RunStatus.CANCELED
        error = {"code": EXECUTOR_LOST, "message": f"Canceled (the executor was gone at {when})."}
    else:
        final = RunStatus.FAILED
    store = workspace._store
    try:
        return store.set_run_status(record.run_id, final, error=error, expected=[record.status])
    except InvalidState:  # it moved meanwhile: someone else decided
        return store.get_run(record.run_id)


def _recover_driver_log(workspace: Workspace, record: RunRecord) -> None:
    """Keep the output the dead executor had not written yet (its local spool), when the
    spool is on this host."""
    from runyard.compute import node
    from runyard.compute.streaming import recover_from_spool
    from runyard.core.run_files import run_files_prefix

    executor = record.details.get("executor") or {}
    spool = executor.get("driverSpool")
    if executor.get("host") == node.hostname() and isinstance(spool, str):
        name = f"{run_files_prefix(record.run_id)}/runyard-logs/driver.txt"
        recover_from_spool(workspace._artifacts, name, spool)


def _stop_leftover_script(record: RunRecord) -> None:
    """Stop the script of a run whose executor died, when it runs on this host."""
    from runyard.compute import node

    executor = record.details.get("executor") or {}
    script = record.details.get("script") or {}
    pgid = script.get("pgid")
    if executor.get("host") != node.hostname() or not isinstance(pgid, int) or pgid <= 1:
        return
    # The group's id is its leader's pid. A live leader with another start time means the
    # pid was reused: not ours. A dead leader with a live group: the script's children.
    try:
        os.kill(pgid, 0)
        leader_exists = True
    except ProcessLookupError:
        leader_exists = False
    except PermissionError:
        return
    if (
        leader_exists
        and not node.process_alive(pgid, script.get("pidStart"))
        and node.process_start_time(pgid) != script.get("pidStart")
    ):
        return
    if node.group_alive(pgid):
        node.kill_process_group(pgid, grace_seconds=2.0)

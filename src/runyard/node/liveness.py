"""The liveness sweeper: a run whose executor died is marked Failed, never left active.

An executor updates its run's ``heartbeat_at`` every ``heartbeat_s`` seconds (settings).
:func:`sweep_run` looks at one active submitted run: when its last sign of life (heartbeat,
else launch) is older than ``liveness_timeout_s`` and, when this node carried it, its
executor process is really gone, it stops what is left of the run's script, keeps the
output the executor had not stored yet, and marks the run Failed (``ExecutorLost``).

Reads never sweep: ``get_status``, ``get_details``, listings are pure. The sweeper runs
where someone is responsible for runs: a local executor (for its target's runs) as it
starts, the Ray dispatcher, ``wait_for_completion`` for the run it waits on, and
``runyard workspace sweep``.

Pids and paths come from this node's own record (:mod:`runyard.node.local_record`), never
from the store.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from typing import TYPE_CHECKING

from runyard.entities.run import RunErrorCode, RunRecord, RunStatus
from runyard.entities.run_details import EXECUTOR, ExecutorInfo
from runyard.errors import InvalidState
from runyard.node import local_record, processes

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources

EXECUTOR_LOST = RunErrorCode.EXECUTOR_LOST.value
_SWEPT_TYPES = ("submitted", "interactive")


def last_sign_of_life(record: RunRecord) -> float | None:
    """When the run's process last showed it was alive: its heartbeat; else its launch (a
    submitted run), or its creation (an interactive run beats from its start)."""
    if record.heartbeat_at is not None:
        return record.heartbeat_at
    if record.run_type == "interactive":
        return record.created_at
    return ExecutorInfo.from_dict(record.details.get(EXECUTOR)).launched_at


def is_silent(record: RunRecord, timeout_s: float, now: float | None = None) -> bool:
    """Whether an active run has shown no sign of life for longer than ``timeout_s``
    (a run that never had one, e.g. queued on a cluster, is not silent)."""
    if record.is_terminal or record.run_type not in _SWEPT_TYPES:
        return False
    last = last_sign_of_life(record)
    return last is not None and (now or time.time()) - last > timeout_s


def sweep_run(
    resources: WorkspaceResources,
    record: RunRecord,
    *,
    interactive_timeout_s: float | None = None,
) -> RunRecord:
    """``record``, or the record after marking it Failed (Canceled when a cancel was asked
    for) because its process died.

    ``interactive_timeout_s``: how long an interactive run may be silent instead (at least
    the liveness timeout): a server cannot look at a remote notebook's process, and its
    network may be away for a while (the SDK keeps its values meanwhile).
    """
    settings = resources.settings
    limit = settings.liveness_timeout_s
    if interactive_timeout_s is not None and record.run_type == "interactive":
        limit = max(limit, interactive_timeout_s)
    if not is_silent(record, limit):
        return record
    mine = local_record.read(settings.scratch_dir, record.run_id)
    if mine is not None and mine.executor_pid is not None:
        if processes.process_alive(mine.executor_pid, mine.executor_start):
            return record  # slow, not dead: its heartbeat thread will catch up
        stop_leftover_script(resources, record.run_id)
        _recover_driver_log(resources, record.run_id, mine)
    last = last_sign_of_life(record) or time.time()
    silent = time.time() - last
    when = _dt.datetime.fromtimestamp(last, tz=_dt.timezone.utc).isoformat(timespec="seconds")
    what = "executor" if record.run_type == "submitted" else "process"
    error = {
        "code": EXECUTOR_LOST,
        "message": (
            f"The run's {what} stopped heart-beating at {when} (silent for {silent:.0f} s, "
            f"limit {limit:.0f} s) and is gone, so the run was marked "
            "Failed. Its logs and metrics up to then are kept. Look at the executor's output "
            "(runyard-logs/executor.txt) and the machine's logs (out of memory?)."
        ),
    }
    if record.status == RunStatus.CANCEL_REQUESTED:  # it died on its way out: canceled
        final = RunStatus.CANCELED
        error = {"code": EXECUTOR_LOST, "message": f"Canceled (the {what} was gone at {when})."}
    else:
        final = RunStatus.FAILED
    store = resources.store
    try:
        return store.set_run_status(record.run_id, final, error=error, expected=[record.status])
    except InvalidState:  # it moved meanwhile: someone else decided
        return store.get_run(record.run_id)


def sweep(
    resources: WorkspaceResources,
    target: str | None = None,
    *,
    interactive_timeout_s: float | None = None,
) -> list[RunRecord]:
    """Sweep every active run (of one compute target, when given); the runs it ended.
    ``interactive_timeout_s``: see :func:`sweep_run`."""
    active = [s for s in RunStatus if s not in (RunStatus.COMPLETED, RunStatus.FAILED)]
    active.remove(RunStatus.CANCELED)
    ended = []
    for record in resources.store.list_runs(statuses=active, target=target):
        after = sweep_run(resources, record, interactive_timeout_s=interactive_timeout_s)
        if after.is_terminal:
            ended.append(after)
    return ended


def _recover_driver_log(
    resources: WorkspaceResources, run_id: str, mine: local_record.LocalRecord
) -> None:
    """Keep the output the dead executor had not written yet (its spool on this node)."""
    from runyard.artifacts.layout import DRIVER_LOG, run_file_key
    from runyard.node.streaming import recover_from_spool

    spool = mine.driver_spool
    folder = local_record.run_folder(resources.settings.scratch_dir, run_id)
    if spool and os.path.dirname(os.path.abspath(spool)) == os.path.abspath(folder):
        recover_from_spool(resources.artifacts, run_file_key(run_id, DRIVER_LOG), spool)


def stop_leftover_script(resources: WorkspaceResources, run_id: str) -> None:
    """Stop the script of a run whose executor died, when this node started it."""
    mine = local_record.read(resources.settings.scratch_dir, run_id)
    if mine is None or mine.script_pgid is None or mine.script_pgid <= 1:
        return
    pgid = mine.script_pgid
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
        and not processes.process_alive(pgid, mine.script_start)
        and processes.process_start_time(pgid) != mine.script_start
    ):
        return
    if processes.group_alive(pgid):
        processes.kill_process_group(pgid, grace_seconds=2.0)

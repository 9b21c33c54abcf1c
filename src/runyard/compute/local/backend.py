"""LocalComputeBackend: runs' executors as detached processes on this machine."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runyard.compute.backend import ComputeBackend, TargetStatus
from runyard.entities.run import RunStatus
from runyard.entities.run_details import EXECUTOR, ExecutorInfo
from runyard.errors import BackendError, InvalidState
from runyard.node import local_record, processes, slots
from runyard.resources import ENV_RUN_ID, ENV_TOKEN

if TYPE_CHECKING:
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.entities.definition import RunDefinition
    from runyard.resources import WorkspaceResources

_ACTIVE = (
    RunStatus.QUEUED,
    RunStatus.PREPARING,
    RunStatus.STARTING,
    RunStatus.RUNNING,
    RunStatus.FINALIZING,
    RunStatus.CANCEL_REQUESTED,
)
# ``sh`` starts the executor in the background and exits at once, so the executor is not a
# child of the submitting process (no zombie is left when it ends while we still run) and
# keeps running when we exit; ``$!`` tells us its pid.
#: Starts a process (command, environment, output file) detached; returns its pid.
Spawn = Callable[[list[str], dict[str, str], str], int]
_SPAWN = 'exec "$@" </dev/null >>"$RUNYARD_EXECUTOR_OUT" 2>&1 &\necho $!'
EXECUTOR_OUT = "executor.out"


class LocalComputeBackend(ComputeBackend):
    """Places executors on this machine, optionally at most ``max_concurrent_runs`` at once.

    Args:
        resources: the workspace (stores and settings) the runs belong to.
        record: the target (``kind`` ``local``; ``config["max_concurrent_runs"]`` optional).

    Attributes:
        spawn: starts an executor's process (``command``, ``env``, ``output``) and returns
            its pid: a detached ``python -m runyard.node`` by default; whoever starts many
            runs may put a :class:`~runyard.compute.local.forkserver.ForkServer`'s here.
    """

    def __init__(self, resources: WorkspaceResources, record: ComputeTargetRecord) -> None:
        super().__init__(resources, record)
        limit = record.config.get("max_concurrent_runs")
        self.max_concurrent_runs: int | None = int(limit) if limit else None
        self.spawn: Spawn = spawn_detached

    def launch(self, run_id: str, definition: RunDefinition) -> None:
        """Start the run's executor as a detached process; it waits for a slot itself.

        Raises:
            BackendError: the executor process could not be started.
        """
        settings = self._resources.settings
        run_dir = local_record.run_folder(settings.scratch_dir, run_id)
        os.makedirs(run_dir, exist_ok=True)
        output = os.path.join(run_dir, EXECUTOR_OUT)
        env = dict(os.environ)
        env.update(settings.to_env())
        env.pop(ENV_TOKEN, None)  # the server's own token (if any) is not the run's
        env.update(self._resources.node_env(run_id))
        env.pop(ENV_RUN_ID, None)  # the submitter may itself be a run
        env["RUNYARD_EXECUTOR_OUT"] = output
        env.pop(slots.SLOTS_ENV, None)
        if self.max_concurrent_runs:
            folder = slots.slots_dir(
                settings.scratch_dir,
                self._resources.config.resolved_tracking_uri,
                self._record.name,
            )
            env[slots.SLOTS_ENV] = slots.encode(self.max_concurrent_runs, folder)
        command = [sys.executable, "-m", "runyard.node", run_id]
        launch_recorded(self._resources, run_id, command, env, output, spawn=self.spawn)

    def cancel(self, run_id: str) -> None:
        """Ask the executor to stop (SIGTERM: it stops the script's process group and marks
        the run Canceled). When the executor is gone, stop what is left and mark it here."""
        store = self._resources.store
        record = store.get_run(run_id)
        if record.is_terminal:
            return
        # Only a process this node recorded itself is signalled (never a pid from the store).
        mine = local_record.read(self._resources.settings.scratch_dir, run_id)
        pid = mine.executor_pid if mine else None
        if (
            mine is not None
            and pid is not None
            and processes.process_alive(pid, mine.executor_start)
        ):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
            return
        from runyard.node.liveness import stop_leftover_script

        stop_leftover_script(self._resources, run_id)
        with contextlib.suppress(InvalidState):
            store.set_run_status(
                run_id,
                RunStatus.CANCELED,
                error={"message": "Canceled (the run's executor was no longer running)."},
                expected=[record.status],
            )

    def status(self) -> TargetStatus:
        """This machine as one node: busy while runs of the target are active."""
        counts: dict[RunStatus, int] = {}
        store = self._resources.store
        for record in store.list_runs(statuses=list(_ACTIVE), target=self._record.name):
            counts[record.status] = counts.get(record.status, 0) + 1
        queued = counts.get(RunStatus.QUEUED, 0)
        running = sum(counts.values()) - queued
        details: dict[str, Any] = {
            "host": processes.hostname(),
            "max_concurrent_runs": self.max_concurrent_runs,
            "cpus": os.cpu_count(),
        }
        return TargetStatus(
            state="Succeeded",
            nodes_busy=1 if running else 0,
            nodes_idle=0 if running else 1,
            queued_runs=queued,
            running_runs=running,
            details=details,
        )


def launch_recorded(
    resources: WorkspaceResources,
    run_id: str,
    command: list[str],
    env: dict[str, str],
    output: str,
    *,
    beat: bool = False,
    spawn: Spawn | None = None,
) -> int:
    """Start the process that carries ``run_id`` (an executor, a tuning controller) detached,
    and record it: in this node's own record (the only pid it will ever signal) and as the
    run's executor info. With ``beat``, the launch also counts as the run's latest sign of
    life. ``spawn`` starts the process (default :func:`spawn_detached`). Returns the pid.

    Raises:
        BackendError: the process could not be started.
    """
    launched_at = time.time()
    pid = (spawn or spawn_detached)(command, env, output)
    start = processes.process_start_time(pid)
    local_record.update(
        resources.settings.scratch_dir, run_id, executor_pid=pid, executor_start=start
    )
    info = ExecutorInfo(
        host=processes.hostname(),
        pid=pid,
        pid_start=start,
        backend="local",
        launched_at=launched_at,
        output=output,
    )
    resources.store.update_run(
        run_id,
        details={EXECUTOR: info.to_dict()},
        heartbeat_at=launched_at if beat else None,
    )
    return pid


def spawn_detached(command: list[str], env: dict[str, str], output: str) -> int:
    """Start ``command`` detached from this process (it outlives it), its output appended
    to ``output``; return its pid.

    Raises:
        BackendError: the process could not be started.
    """
    try:
        if os.name == "nt":  # no sh: a detached process in its own group
            with open(output, "ab") as out:
                proc = subprocess.Popen(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    creationflags=0x00000008 | 0x00000200,  # DETACHED | NEW_GROUP
                )
            return proc.pid
        done = subprocess.run(
            ["/bin/sh", "-c", _SPAWN, "sh", *command],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,  # Ctrl-C in the submitter's terminal must not reach it
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackendError(f"Could not start the process: {exc}") from exc
    try:
        return int(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BackendError(
            f"Could not start the process (exit code {done.returncode}): "
            f"{done.stderr.strip() or done.stdout.strip()}"
        ) from None

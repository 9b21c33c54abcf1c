"""The dispatcher of a cluster target: one long-lived Ray driver that turns the target's
Queued runs into Ray tasks.

    python -m runyard.compute.ray.dispatcher TARGET      (a Ray job; RUNYARD_WORKSPACE set)

Starting a Ray job per run costs Ray a fresh worker process (its job supervisor) each time:
seconds on a small machine, more when several start at once. A task of one long-lived
driver runs on an idle worker Ray keeps for that driver, in milliseconds. So
:meth:`RayComputeBackend.launch <runyard.compute.ray.backend.RayComputeBackend.launch>`
records what the run reserves (``details["rayDispatch"]``) and the dispatcher, watching the
store, submits one task per run with those resources. Ray keeps the task waiting while no
node has them (the run stays Queued) and runs it on a node that does; the task runs the
executor under :mod:`runyard.compute.ray.entry` and returns its exit code.

- A run canceled before its executor started is canceled here too (its task is dropped).
- A task that ends before its executor started a run marks that run Failed, with the reason.
- When the dispatcher dies its tasks die with it (Ray ties a task to its owner): running
  executors stop heart-beating (the run is marked Failed), and the runs still waiting are
  taken up by the next dispatcher, which the backend starts when it finds none.
- It exits when its target is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from runyard.compute.ray.jobs import RayJobsClient
from runyard.entities.run_details import EXECUTOR, ExecutorInfo
from runyard.errors import BackendError

POLL_S = 0.1
TARGET_CHECK_S = 5.0
#: Seconds a starting dispatcher may take before the backend gives up waiting for it.
START_TIMEOUT_S = 120.0

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.resources import WorkspaceResources


def dispatcher_job_id(tracking_uri: str, target: str) -> str:
    """The Ray job id of ``target``'s dispatcher (one per workspace and target)."""
    key = hashlib.sha256(f"{tracking_uri}\n{target}".encode()).hexdigest()[:12]
    return f"runyard-dispatcher-{key}"


def ensure_dispatcher(
    client: RayJobsClient,
    *,
    job_id: str,
    target: str,
    python: str,
    workspace_json: str,
    env: dict[str, str],
) -> str:
    """Start the target's dispatcher as a Ray job unless it runs (or is starting) already;
    returns its Ray job status. Two processes doing this at once start one dispatcher.

    Raises:
        BackendError: the cluster cannot be reached or refused the job.
    """
    from runyard.errors import NotFound

    try:
        job = client.job(job_id)
        if not job.is_terminal:
            return job.status
        client.delete(job_id)  # an ended dispatcher: its id is taken until forgotten
    except NotFound:
        pass
    try:
        client.submit(
            job_id,
            "exec " + shlex.join([python, "-m", "runyard.compute.ray.dispatcher", target]),
            env_vars={"RUNYARD_WORKSPACE": workspace_json, **env},
            num_cpus=0,
            num_gpus=0,
            metadata={"runyard_target": target, "runyard_role": "dispatcher"},
        )
    except BackendError as exc:
        if "already exists" not in str(exc):  # another process started it meanwhile
            raise
    return client.job(job_id).status


def run_executor(run_id: str, python: str, env: dict[str, str]) -> int:
    """The body of a run's Ray task: the executor, on the node Ray chose; its exit code.

    When the executor's interpreter is this worker's own, the executor runs right here:
    the worker outlives the task with Runyard already imported, so a run starts without a
    new interpreter (about half a second on a small machine). Otherwise it runs as a child
    process with that interpreter.
    """
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return _run_here(run_id, {**env, "RUNYARD_RAY_NODE_ID": node_id})
    full = dict(os.environ)
    full.update(env)
    full["RUNYARD_RAY_NODE_ID"] = node_id
    proc = subprocess.Popen([python, "-m", "runyard.compute.ray.entry", run_id], env=full)
    return proc.wait()


def _run_here(run_id: str, env: dict[str, str]) -> int:
    """Run the executor in this process, then leave the process as it was (working folder,
    SIGTERM handler) for the next task. The executor is handed its variables; this
    process's own environment is neither read by it nor changed."""
    from runyard.compute.ray import entry

    saved_cwd = os.getcwd()
    in_main = threading.current_thread() is threading.main_thread()
    saved_handler = signal.getsignal(signal.SIGTERM) if in_main else None
    try:
        return entry.carry(run_id, {**os.environ, **env})
    finally:
        with contextlib.suppress(OSError):
            os.chdir(saved_cwd)
        if in_main and saved_handler is not None:
            signal.signal(signal.SIGTERM, saved_handler)


class Dispatcher:
    """Submits a Ray task for every Queued run of ``target`` that asked for one.

    Args:
        resources: the workspace (stores and settings) of the target.
        target: the target's name.
    """

    def __init__(self, resources: WorkspaceResources, target: str) -> None:
        self.resources = resources
        self.store = resources.store
        self.target = target
        self.tasks: dict[str, Any] = {}  # run id -> its task's ObjectRef
        self.stopping = threading.Event()

    def say(self, message: str) -> None:
        print(f"runyard dispatcher {self.target}: {message}", flush=True)

    def run(self) -> int:
        import ray

        # The task's function from the package module (this file may run as __main__), so
        # that workers import it rather than unpickle a copy.
        from runyard.compute.ray import dispatcher as module

        ray.init(
            address=os.environ.get("RUNYARD_RAY_ADDRESS") or None,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        task = ray.remote(max_retries=0)(module.run_executor)
        self.say(f"dispatching the runs of target {self.target!r}")
        next_target_check = 0.0
        try:
            while not self.stopping.is_set():
                try:
                    now = time.monotonic()
                    if now >= next_target_check:
                        if not self._target_exists():
                            self.say("the target was deleted: stopping")
                            return 0
                        next_target_check = now + TARGET_CHECK_S
                    self._dispatch(task)
                    self._collect()
                except Exception as exc:  # a busy store, a moment of network: try again
                    self.say(f"{type(exc).__name__}: {exc}")
                    time.sleep(1.0)
                time.sleep(POLL_S)
        finally:
            # Waiting tasks are dropped; running executors end with this driver (Ray ties
            # tasks to their owner) and their runs are marked Failed when they fall silent.
            for run_id, ref in self.tasks.items():
                record = self.store.get_run(run_id)
                if not _started(record):
                    with contextlib.suppress(Exception):
                        ray.cancel(ref)
            ray.shutdown()
        return 0

    def _target_exists(self) -> bool:
        from runyard.errors import NotFound

        try:
            self.store.get_compute_target(self.target)
        except NotFound:
            return False
        return True

    def _dispatch(self, task: Any) -> None:
        import ray

        from runyard.entities.run import RunStatus

        waiting = self.store.list_runs(
            statuses=[RunStatus.QUEUED, RunStatus.CANCEL_REQUESTED], target=self.target
        )
        seen = {r.run_id for r in waiting}
        for run_id in [r for r in self.tasks if r not in seen]:
            # Ended (canceled) or started: a task whose run ended before it began is dropped.
            record = self.store.get_run(run_id)
            if record.is_terminal and not _started(record):
                ray.cancel(self.tasks.pop(run_id))
        for record in waiting:
            request = record.details.get("rayDispatch")
            started = _started(record)
            if record.run_id in self.tasks:
                if record.status == RunStatus.CANCEL_REQUESTED and not started:
                    ray.cancel(self.tasks.pop(record.run_id))
                continue
            if not request or started or record.status != RunStatus.QUEUED:
                continue
            options: dict[str, Any] = {
                "num_cpus": request["cpus"],
                "num_gpus": request["gpus"],
            }
            if request.get("memoryBytes"):
                options["memory"] = request["memoryBytes"]
            self.tasks[record.run_id] = task.options(**options).remote(
                record.run_id, request["python"], request["env"]
            )

    def _collect(self) -> None:
        """Forget finished tasks; fail runs whose task ended before their executor ran."""
        import ray

        if not self.tasks:
            return
        by_ref = {ref: run_id for run_id, ref in self.tasks.items()}
        done, _ = ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        for ref in done:
            run_id = by_ref[ref]
            del self.tasks[run_id]
            try:
                outcome = f"exited with code {ray.get(ref)}"
            except ray.exceptions.TaskCancelledError:
                continue
            except ray.exceptions.RayError as exc:
                outcome = f"was lost ({type(exc).__name__}: {str(exc).splitlines()[0][:300]})"
            self._fail_if_never_started(run_id, outcome)

    def _fail_if_never_started(self, run_id: str, outcome: str) -> None:
        from runyard.entities.run import RunStatus
        from runyard.errors import InvalidState

        record = self.store.get_run(run_id)
        if record.is_terminal or _started(record):
            return
        status = (
            RunStatus.CANCELED
            if record.status == RunStatus.CANCEL_REQUESTED
            else (RunStatus.FAILED)
        )
        with contextlib.suppress(InvalidState):
            self.store.set_run_status(
                run_id,
                status,
                error={
                    "code": "ExecutorNotStarted",
                    "message": (
                        f"The run's Ray task {outcome} before its executor started. The Ray "
                        f"logs of the dispatcher of target {self.target!r} tell more."
                    ),
                },
                expected=[record.status],
            )


def _started(record: RunRecord) -> bool:
    """Whether the run's executor has started (its own record says when)."""
    return ExecutorInfo.from_dict(record.details.get(EXECUTOR)).started_at is not None


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m runyard.compute.ray.dispatcher TARGET``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not os.environ.get("RUNYARD_WORKSPACE"):
        print(
            "usage: RUNYARD_WORKSPACE=<workspace JSON> python -m runyard.compute.ray.dispatcher "
            "TARGET",
            file=sys.stderr,
        )
        return 2
    from runyard.resources import WorkspaceResources

    resources = WorkspaceResources.from_json(os.environ["RUNYARD_WORKSPACE"])
    dispatcher = Dispatcher(resources, args[0])
    signal.signal(signal.SIGTERM, lambda *_: dispatcher.stopping.set())
    try:
        return dispatcher.run()
    finally:
        resources.close()


if __name__ == "__main__":
    sys.exit(main())

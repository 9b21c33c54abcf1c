"""The Ray job's entrypoint: the executor, watching for the loss of its node.

    python -m runyard.compute.ray.entry RUN_ID     (in a Ray task; RUNYARD_WORKSPACE set)

Started by the run's Ray task (:mod:`runyard.compute.ray.dispatcher`) or a distributed run's
gang, whose Ray worker process is our parent. The executor runs in this very process, so
whatever Ray does to the worker's children when the node goes (on a lost machine,
everything; on a machine that lives on, Ray kills its workers' child processes) happens to
the executor: it stops heart-beating and the run is marked Failed by
:mod:`runyard.node.liveness`, which also stops a script left behind. When the worker
dies and this process is spared, a watcher thread sees its parent change, marks the run
Failed saying its node was lost, and stops the executor (which stops the script).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import TYPE_CHECKING

from runyard.entities.run import RunErrorCode
from runyard.entities.run_details import PLACEMENT
from runyard.resources import WorkspaceResources

if TYPE_CHECKING:
    from runyard.node.executor import Executor

NODE_LOST = RunErrorCode.NODE_LOST.value
#: The job API address of the cluster whose Ray job runs the executor (a served run's).
JOB_API_ENV = "RUNYARD_RAY_JOB_API"
POLL_S = 0.5


def _mark_node_lost(run_id: str, environ: dict[str, str]) -> None:
    from runyard.entities.run import RunStatus
    from runyard.errors import InvalidState
    from runyard.resources import WorkspaceResources
    from runyard.settings import Settings

    # The settings of the run's variables: a server's run reaches it with their token.
    resources = WorkspaceResources.from_json(
        environ["RUNYARD_WORKSPACE"], Settings.from_env(environ)
    )
    try:
        store = resources.store
        record = store.get_run(run_id)
        if record.is_terminal:
            return
        status = (
            RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
        )
        with contextlib.suppress(InvalidState):
            store.set_run_status(
                run_id,
                status,
                error={
                    "code": NODE_LOST,
                    "message": (
                        "The Ray node running this run was lost (the Ray worker holding the "
                        f"run there died while the run was {record.status.value}); its "
                        "script was stopped. Logs and metrics up to then are kept."
                    ),
                },
                expected=[record.status],
            )
    finally:
        resources.close()


def _job_node(run_id: str, environ: dict[str, str]) -> str | None:
    """The node a run's own Ray job runs on (a team server's runs are Ray jobs: Ray's job
    API names the node their entrypoint started on); None when it cannot tell."""
    address = environ.get(JOB_API_ENV)
    if not address:
        return None
    from runyard.compute.ray.jobs import RayJobsClient, job_id_of

    try:
        return RayJobsClient(address).job(job_id_of(run_id)).node_id
    except Exception:  # where the run is, for people reading; the run goes on without it
        return None


def _watch(run_id: str, supervisor: int, executor: Executor, environ: dict[str, str]) -> None:
    while not executor.done.wait(POLL_S):
        if os.getppid() != supervisor:
            print(f"runyard: the Ray worker of run {run_id} is gone: node lost", flush=True)
            try:
                _mark_node_lost(run_id, environ)
            finally:
                executor.stop.set()
            return


def carry(run_id: str, environ: dict[str, str]) -> int:
    """Carry run ``run_id`` with the executor in this process, given the variables it runs
    with (this process's own are neither read nor changed), and watch our parent, the Ray
    worker that holds the run's resources."""
    from runyard.node.executor import Executor, pass_run_token_on
    from runyard.settings import Settings

    supervisor = os.getppid()
    resources = WorkspaceResources.from_json(
        environ["RUNYARD_WORKSPACE"], Settings.from_env(environ)
    )
    pass_run_token_on(resources)
    try:
        node_id = environ.get("RUNYARD_RAY_NODE_ID") or _job_node(run_id, environ)
        if node_id:  # where Ray placed the run, for get_status() and people reading
            with contextlib.suppress(Exception):
                resources.store.update_run(run_id, details={PLACEMENT: {"node": node_id}})
        executor = Executor(resources, run_id, environ, backend="ray")
        watcher = threading.Thread(
            target=_watch, args=(run_id, supervisor, executor, environ), name="runyard-node-watch"
        )
        watcher.daemon = True
        watcher.start()
        return executor.run()
    finally:
        resources.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m runyard.compute.ray.entry RUN_ID``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not os.environ.get("RUNYARD_WORKSPACE"):
        print(
            "usage: RUNYARD_WORKSPACE=<workspace JSON> python -m runyard.compute.ray.entry RUN_ID",
            file=sys.stderr,
        )
        return 2
    return carry(args[0], dict(os.environ))


if __name__ == "__main__":
    sys.exit(main())

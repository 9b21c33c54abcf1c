"""Starting a HyperDrive run's controller, and starting it again when it is gone.

The controller (``python -m runyard.sweep RUN_ID``) is a detached process on the machine
that submitted the sweep, like a local run's executor: it outlives the notebook. It beats
on the parent run; when the beats stop and (on this machine) its process is gone, whoever
waits on the run (``HyperDriveRun.wait_for_completion``, ``resume()``, ``runyard tune
resume``) starts a new one, which carries on from the state the old one saved.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from runyard.compute.local.backend import launch_recorded
from runyard.node import local_record, processes
from runyard.node.liveness import last_sign_of_life
from runyard.resources import ENV_RUN_ID, ENV_TOKEN

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.resources import WorkspaceResources

CONTROLLER_OUT = "controller.out"
_NOT_INHERITED = ("RUNYARD_LOCAL_SLOTS", "RUNYARD_EXECUTOR_OUT", ENV_RUN_ID)


def launch_controller(resources: WorkspaceResources, run_id: str) -> int:
    """Start the controller of HyperDrive run ``run_id`` as a detached process; its pid
    (0 on a team server's workspace, whose server starts it).

    Raises:
        BackendError: the process could not be started.
    """
    if resources.config.server:
        # A team server's workspace: the server starts the controller, with a run token.
        from runyard.compute.remote import launch_on_server

        launch_on_server(resources, run_id)
        return 0
    settings = resources.settings
    folder = local_record.run_folder(settings.scratch_dir, run_id)
    os.makedirs(folder, exist_ok=True)
    output = os.path.join(folder, CONTROLLER_OUT)
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(settings.to_env())
    env.pop(ENV_TOKEN, None)
    env.update(resources.node_env(run_id))
    env["RUNYARD_EXECUTOR_OUT"] = output
    # The launch is a sign of life: an old controller's stale beat must not make the new
    # one look dead before its first beat.
    pid = launch_recorded(
        resources, run_id, [sys.executable, "-m", "runyard.sweep", run_id], env, output, beat=True
    )
    return pid


def controller_gone(resources: WorkspaceResources, record: RunRecord) -> bool:
    """Whether an unfinished HyperDrive run has no live controller: silent for longer
    than ``liveness_timeout_s`` and, when this machine started it, its process is gone."""
    if record.is_terminal:
        return False
    settings = resources.settings
    last = last_sign_of_life(record)
    if last is not None and time.time() - last <= settings.liveness_timeout_s:
        return False
    mine = local_record.read(settings.scratch_dir, record.run_id)
    if mine is not None and mine.executor_pid is not None:
        return not processes.process_alive(mine.executor_pid, mine.executor_start)
    return True


def resume_if_gone(resources: WorkspaceResources, run_id: str) -> bool:
    """Start a new controller for ``run_id`` when its controller is gone; whether one was
    started."""
    record = resources.store.get_run(run_id)
    if not controller_gone(resources, record):
        return False
    launch_controller(resources, run_id)
    return True

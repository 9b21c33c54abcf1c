"""Starting a HyperDrive run's controller, and starting it again when it is gone.

The controller (``python -m runyard.sweep RUN_ID``) is a detached process on the machine
that submitted the sweep, like a local run's executor: it outlives the notebook. It beats
on the parent run; when the beats stop and (on this machine) its process is gone, whoever
waits on the run (``HyperDriveRun.wait_for_completion``, ``resume()``, ``runyard tune
resume``, ``runyard workspace sweep``) starts a new one, which carries on from the state
the old one saved.

Every controller is started under a **claim**: generation ``n`` of the run's controllers,
taken with a compare-and-set in the store (a run property ``runyard.tuning.controller.<n>``
that only one claimant can set). Two processes that find the same controller dead both
try to claim the next generation and only one wins, so only one new controller starts; a
fresh claim counts as a sign of life, and a controller that finds a later generation than
its own claimed stops without touching the run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runyard.compute.local.backend import launch_recorded
from runyard.entities.run import RunErrorCode, RunStatus
from runyard.entities.run_details import RUN_DEFINITION, TUNING_STATE
from runyard.errors import InvalidState, RunyardError
from runyard.node import local_record, processes
from runyard.node.liveness import last_sign_of_life
from runyard.resources import ENV_RUN_ID, ENV_TOKEN

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.resources import WorkspaceResources

CONTROLLER_OUT = "controller.out"
#: The run property that holds generation ``n``'s claim: ``<prefix><n>``.
CLAIM_PREFIX = "runyard.tuning.controller."
#: How a controller learns its claim (``<generation>:<token>``).
ENV_CLAIM = "RUNYARD_SWEEP_CLAIM"
_NOT_INHERITED = ("RUNYARD_LOCAL_SLOTS", "RUNYARD_EXECUTOR_OUT", ENV_RUN_ID, ENV_CLAIM)


@dataclass(frozen=True)
class Claim:
    """Generation ``generation`` of a run's controllers, claimed with ``token``
    (``<unix time>:<host>:<pid>:<random>``)."""

    generation: int
    token: str

    @property
    def claimed_at(self) -> float:
        """When it was claimed (0 when the token does not say)."""
        try:
            return float(self.token.split(":", 1)[0])
        except ValueError:
            return 0.0

    def to_env(self) -> str:
        return f"{self.generation}:{self.token}"

    @classmethod
    def from_env(cls, text: str | None) -> Claim | None:
        """The claim in ``ENV_CLAIM``'s form, or None (unset or garbled)."""
        generation, _, token = (text or "").partition(":")
        return cls(int(generation), token) if generation.isdigit() and token else None


def latest_claim(record: RunRecord) -> Claim | None:
    """The highest generation claimed for ``record``'s controller, or None."""
    found = [
        Claim(int(key[len(CLAIM_PREFIX) :]), value)
        for key, value in record.properties.items()
        if key.startswith(CLAIM_PREFIX) and key[len(CLAIM_PREFIX) :].isdigit()
    ]
    return max(found, key=lambda c: c.generation) if found else None


def claim_controller(resources: WorkspaceResources, record: RunRecord) -> Claim | None:
    """Claim the generation after the latest one ``record`` shows; None when another
    process claimed it first (it starts the controller, not us)."""
    latest = latest_claim(record)
    generation = latest.generation + 1 if latest else 1
    token = f"{time.time():.3f}:{processes.hostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    try:
        resources.store.add_properties(record.run_id, {f"{CLAIM_PREFIX}{generation}": token})
    except InvalidState:
        return None
    return Claim(generation, token)


def launch_controller(resources: WorkspaceResources, run_id: str, claim: Claim) -> int:
    """Start the controller of HyperDrive run ``run_id`` as a detached process, under
    ``claim`` (see :func:`claim_controller`); its pid (0 on a team server's workspace,
    whose server starts it).

    Raises:
        BackendError: the process could not be started.
    """
    if resources.config.server:
        # A team server's workspace: the server starts the controller, with a run token.
        from runyard.compute.remote import launch_on_server

        launch_on_server(resources, run_id, claim.to_env())
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
    env[ENV_CLAIM] = claim.to_env()
    # The launch is a sign of life: an old controller's stale beat must not make the new
    # one look dead before its first beat.
    pid = launch_recorded(
        resources, run_id, [sys.executable, "-m", "runyard.sweep", run_id], env, output, beat=True
    )
    return pid


def controller_gone(resources: WorkspaceResources, record: RunRecord) -> bool:
    """Whether an unfinished HyperDrive run has no live controller: silent (no beat, no
    launch, no claim) for longer than ``liveness_timeout_s`` and, when this machine
    started it, its process is gone."""
    if record.is_terminal:
        return False
    settings = resources.settings
    claim = latest_claim(record)
    signs = [last_sign_of_life(record), claim.claimed_at if claim else None]
    last = max((s for s in signs if s), default=None)
    if last is not None and time.time() - last <= settings.liveness_timeout_s:
        return False
    mine = local_record.read(settings.scratch_dir, record.run_id)
    if mine is not None and mine.executor_pid is not None:
        return not processes.process_alive(mine.executor_pid, mine.executor_start)
    return True


def resume_if_gone(resources: WorkspaceResources, run_id: str) -> bool:
    """Start a new controller for ``run_id`` when its controller is gone and no other
    process claimed the restart first; whether this call started one.

    Raises:
        BackendError: the process could not be started.
    """
    record = resources.store.get_run(run_id)
    if not controller_gone(resources, record):
        return False
    claim = claim_controller(resources, record)
    if claim is None:
        return False
    launch_controller(resources, run_id, claim)
    return True


@dataclass(frozen=True)
class SweptSweep:
    """What :func:`sweep_controllers` did to one HyperDrive run.

    Attributes:
        record: the run afterwards.
        resumed: a new controller carries it on (False: it was marked Failed).
        message: what happened, in a sentence.
    """

    record: RunRecord
    resumed: bool
    message: str


def sweep_controllers(resources: WorkspaceResources, target: str | None = None) -> list[SweptSweep]:
    """Resume every active HyperDrive run (of compute target ``target``, when given) whose
    controller is gone; a run that cannot be resumed (its saved study is unreadable, or no
    controller can be started) is marked Failed with the reason. Returns what was done."""
    active = [s for s in RunStatus if s not in (RunStatus.COMPLETED, RunStatus.FAILED)]
    active.remove(RunStatus.CANCELED)
    done = []
    for record in resources.store.list_runs(statuses=active, target=target):
        if record.run_type != "hyperdrive" or not controller_gone(resources, record):
            continue
        problem = _unresumable(record)
        if problem is None:
            claim = claim_controller(resources, record)
            if claim is None:
                continue  # another process is starting it
            try:
                pid = launch_controller(resources, record.run_id, claim)
            except RunyardError as exc:
                problem = f"a new controller could not be started: {exc}"
            else:
                message = (
                    f"Its tuning controller was gone; controller {claim.generation} (pid {pid}) "
                    "carries on from the saved state."
                )
                done.append(SweptSweep(resources.store.get_run(record.run_id), True, message))
                continue
        done.append(_fail(resources, record, problem))
    return done


def _unresumable(record: RunRecord) -> str | None:
    """Why a new controller could not carry ``record`` on, or None."""
    from runyard.entities.definition import RunDefinition
    from runyard.tuning.study import StudyState

    try:
        StudyState.from_json(record.details[TUNING_STATE])
        RunDefinition.from_dict(record.details[RUN_DEFINITION])
    except (KeyError, TypeError, ValueError, RunyardError) as exc:
        return f"its saved study state is missing or unreadable ({type(exc).__name__}: {exc})"
    return None


def _fail(resources: WorkspaceResources, record: RunRecord, problem: str) -> SweptSweep:
    message = (
        f"The tuning controller of {record.run_id} was gone and cannot be resumed: {problem}. "
        "Its children were left as they were."
    )
    error = {"code": RunErrorCode.EXECUTOR_LOST.value, "message": message}
    store = resources.store
    with contextlib.suppress(InvalidState):  # it moved meanwhile: someone else decided
        store.set_run_status(record.run_id, RunStatus.FAILED, error=error, expected=[record.status])
    return SweptSweep(store.get_run(record.run_id), False, message)

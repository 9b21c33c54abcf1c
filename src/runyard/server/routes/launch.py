"""``/workspaces/{workspace}/runs/{run_id}/{launch,cancel}`` and
``/compute-targets/{name}/status``: the server's compute targets run what clients submit.

A client records its run as Queued (with its snapshot uploaded) and then asks for the
launch; the server's backend for the run's target starts the executor, which gets the
server's URL and a token scoped to the run (:mod:`runyard.server.node_access`), never the
server's own config. A HyperDrive run's launch starts its tuning controller on the server
(again, when its controller is gone). A run's token may launch its own child runs (a
HyperDrive controller's trials), never the run itself or another run.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from runyard.compute.backend import ComputeBackend
from runyard.compute.registry import backend_for
from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.definition import RunDefinition
from runyard.entities.run import RunStatus
from runyard.errors import Forbidden, InvalidArgument, InvalidState
from runyard.resources import WorkspaceResources
from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.scope import check_run_write
from runyard.server.bodies import json_body, no_content
from runyard.server.deps import workspace_resources
from runyard.server.node_access import NodeAccess
from runyard.sweep.launch import (
    Claim,
    claim_controller,
    controller_gone,
    latest_claim,
    launch_controller,
)

router = APIRouter(prefix="/workspaces/{workspace}", tags=["compute"])

#: The target every server has: its own machine.
LOCAL_TARGET = "local"
#: The run type of a HyperDrive run, whose launch starts its tuning controller.
HYPERDRIVE = "hyperdrive"


def _target(resources: WorkspaceResources, name: str) -> ComputeTargetRecord:
    if name == LOCAL_TARGET:
        return ComputeTargetRecord(LOCAL_TARGET, "local", {})
    return resources.store.get_compute_target(name)


def _backend(resources: WorkspaceResources, name: str) -> ComputeBackend:
    return backend_for(resources, _target(resources, name))


@router.post("/runs/{run_id}/launch", status_code=204)
def launch_run(
    run_id: str,
    request: Request,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    resources: WorkspaceResources = Depends(workspace_resources),
    body: dict[str, Any] = Depends(json_body),
    claim: str | None = None,
) -> Response:
    """Start the executor of Queued run ``run_id`` on its target; the body is the run's
    definition (as ``RunDefinition.to_dict()`` gives it). For a HyperDrive run, start its
    tuning controller under ``claim`` (``GENERATION:TOKEN``, the latest in the run's
    properties), or under a claim of the server's when the run's controller is gone.

    Raises:
        NotFound: no such run or target. InvalidState: the run is not Queued.
        InvalidArgument: the body is not a definition of this run's target.
        Forbidden: a run's token asked for a run outside its children.
    """
    store = resources.store
    if principal.run_scope == run_id:
        raise Forbidden(f"A run's token cannot launch its own run {run_id!r}.")
    check_run_write(principal, store, run_id)
    record = store.get_run(run_id)
    controller = record.run_type == HYPERDRIVE
    held: Claim | None = None
    if controller and not record.is_terminal:
        # The caller claimed the controller's next generation (the claim decides who
        # starts it); without a claim, the server claims one when none runs.
        held = Claim.from_env(claim)
        if held is None or latest_claim(record) != held:
            if record.status != RunStatus.QUEUED and not controller_gone(resources, record):
                return no_content()  # its controller is alive: nothing to start again
            held = claim_controller(resources, record)
            if held is None:
                return no_content()  # another process claimed it first
    elif record.status != RunStatus.QUEUED:
        raise InvalidState(
            f"Run {run_id!r} is {record.status.value}; only a Queued run can be launched."
        )
    try:
        definition = RunDefinition.from_dict(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"The body is not a run definition: {exc}") from exc
    target = record.target or LOCAL_TARGET
    if definition.target != target:
        raise InvalidArgument(
            f"The definition is for target {definition.target!r}, but run {run_id!r} was "
            f"recorded for target {target!r}."
        )
    backend = _backend(resources, target)
    try:
        if isinstance(resources.node_access, NodeAccess):
            user = request.state.credential.token.user
            resources.node_access.grant(run_id, user, definition.max_run_duration_seconds)
        if held is not None:  # the tuning controller runs on the server; it launches trials
            launch_controller(resources, run_id, held)
        else:
            backend.launch(run_id, definition)
    finally:
        backend.close()
    return no_content()


@router.post("/runs/{run_id}/cancel", status_code=204)
def cancel_run(
    run_id: str,
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    resources: WorkspaceResources = Depends(workspace_resources),
) -> Response:
    """Stop run ``run_id``'s executor and its process tree (best effort; the executor
    marks the run Canceled). Ask for the cancel first (status CancelRequested)."""
    check_run_write(principal, resources.store, run_id)
    record = resources.store.get_run(run_id)
    backend = _backend(resources, record.target or LOCAL_TARGET)
    try:
        backend.cancel(run_id)
    finally:
        backend.close()
    return no_content()


@router.get("/compute-targets/{name}/status")
def target_status(
    name: str,
    principal: Principal = Depends(requires(Role.READER)),
    resources: WorkspaceResources = Depends(workspace_resources),
) -> dict[str, Any]:
    """The target's state as the server's backend sees it (``TargetStatus.serialize()``)."""
    backend = _backend(resources, name)
    try:
        return backend.status().serialize()
    finally:
        backend.close()

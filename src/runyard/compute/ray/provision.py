"""Provisioning a cluster target: start (or check) its Ray cluster, and stop what Runyard
started when the target is deleted.

- **local** (no address): a Ray head on this machine, offering what this machine has. When
  ``vm_size`` asks for more (a laptop has no GPU), the target records it in plain words
  (``config["provisioning"]["warnings"]``, shown by ``wait_for_completion(show_output=True)``
  and ``get_status()``), and runs get what the machine has.
- **simulated** (``simulated_nodes=True``): Ray's autoscaling test cluster on this machine:
  a head without CPUs for runs, and ``vm_size`` nodes added by Ray's autoscaler as runs
  wait, ``min_nodes`` to ``max_nodes`` of them, removed after
  ``idle_seconds_before_scaledown``.
- **attached** (``address``): an existing cluster; provisioning checks that it answers and
  that its nodes can reach the workspace.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from runyard.compute.ray import head as heads
from runyard.compute.ray.autoscaling import fake_multinode_config
from runyard.compute.ray.idle import STOPPED_IDLE_AT, start_idle_watch
from runyard.compute.ray.jobs import RayJobsClient
from runyard.compute.ray.placement import local_head_limits, local_node_share, machine_shape
from runyard.compute.ray.settings import (
    ATTACHED,
    LOCAL,
    ClusterSettings,
    check_workspace_reaches_nodes,
)
from runyard.compute.sizes import NodeShape
from runyard.entities.run import TERMINAL_STATUSES, RunStatus
from runyard.errors import BackendError, InvalidState, missing_extra
from runyard.node import processes

if TYPE_CHECKING:
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.resources import WorkspaceResources

#: Seconds runs of a deleted target get to end as Canceled before they are marked Failed.
DELETE_GRACE_S = 15.0


def provision(resources: WorkspaceResources, record: ComputeTargetRecord) -> ComputeTargetRecord:
    """Bring the target's cluster up and record what was started; returns the record saved.

    Raises:
        MissingDependency: a head must be started and Ray is not installed.
        BackendError: the head did not start, or the attached cluster does not answer.
        InvalidArgument: an embedded workspace with a cluster on other machines.
        Unauthorized: the attached cluster refused the token.
    """
    settings = ClusterSettings.from_config(record.name, record.config)
    config = dict(record.config)
    if settings.mode == ATTACHED:
        assert settings.address is not None
        check_workspace_reaches_nodes(resources.config, record.name, settings.address)
        client = RayJobsClient(settings.address, settings.token())
        version = client.version()
        nodes = client.nodes()
        check_workspace_reaches_nodes(
            resources.config, record.name, settings.address, [n.ip for n in nodes if n.alive]
        )
        config["provisioning"] = {"rayVersion": version, "warnings": []}
    else:
        if importlib.util.find_spec("ray") is None:  # a head needs Ray here; attaching does not
            raise missing_extra("ray", "ray")
        info, provisioning = start_head(resources, record.name, settings)
        provisioning["notes"] = [idle_note(settings.idle_seconds)]
        config["head"] = info.to_dict()
        config["provisioning"] = provisioning
        config.pop(STOPPED_IDLE_AT, None)
    record.config = config
    record.state = "Succeeded"
    resources.store.save_compute_target(record, overwrite=True)
    if settings.mode != ATTACHED:
        start_idle_watch(resources, record.name, heads.HeadInfo.from_dict(config["head"]))
    return record


def idle_note(idle_seconds: float) -> str:
    """What a head Runyard owns does when idle, in words (shown at provisioning)."""
    return (
        f"The Ray head stops itself after {idle_seconds:g} s (idle_seconds_before_scaledown) "
        "without runs of this target, and starts again on the next submit; "
        "target.delete() stops it now."
    )


def start_head(
    resources: WorkspaceResources, name: str, settings: ClusterSettings
) -> tuple[heads.HeadInfo, dict[str, Any]]:
    """Start the head of a local or simulated target; returns it and what to record about
    its nodes (``{"node": ..., "warnings": [...]}``)."""
    folder = heads.head_folder(resources.settings, resources.config.resolved_tracking_uri, name)
    if settings.mode == LOCAL:
        info = heads.start_local_head(folder)
        machine = machine_shape(info.resources)
        limits = local_head_limits(settings.size, machine)
        node_shape = NodeShape(
            name=settings.size.name,
            cpus=max(1, min(settings.size.cpus, machine.cpus)),
            gpus=min(settings.size.gpus, machine.gpus),
            memory_gb=min(settings.size.memory_gb, machine.memory_gb),
            gpu_model=settings.size.gpu_model if machine.gpus else None,
        )
        warnings = []
        if limits:
            warnings.append(
                f"vm_size {settings.size.name} ({settings.size.describe()}) is larger than this "
                f"machine ({'; '.join(limits)}). The local Ray head offers what this machine "
                f"has: each run gets {node_shape.cpus} CPUs"
                + (f" and {node_shape.gpus} GPU(s)." if node_shape.gpus else " and no GPU.")
            )
        if machine.gpus == 0:
            warnings.append(
                "This machine has no GPU: runs with use_gpu=True run on the CPU, with a "
                "warning at the top of their log."
            )
        if settings.max_nodes > 1:
            cpus, memory = local_node_share(settings.size, machine, settings.max_nodes)
            warnings.append(
                f"The local Ray head stands for max_nodes={settings.max_nodes} nodes sharing "
                f"this machine: up to {settings.max_nodes} runs at once, each with {cpus:g} "
                f"CPU and {memory:g} GiB; more runs wait, Queued."
            )
        return info, {"node": _shape_dict(node_shape), "warnings": warnings}
    config = fake_multinode_config(
        f"runyard-{name}",
        settings.size,
        min_nodes=settings.min_nodes,
        max_nodes=settings.max_nodes,
        idle_seconds=settings.idle_seconds,
    )
    info = heads.start_local_head(folder, num_cpus=0, num_gpus=0, autoscaling_config=config)
    note = (
        f"Simulated cluster: up to {settings.max_nodes} {settings.size.name} nodes "
        f"({settings.size.describe()}) started by Ray's autoscaler as separate raylets on this "
        "machine; they share its CPUs."
    )
    return info, {"node": _shape_dict(settings.size), "warnings": [note]}


def ensure_head(resources: WorkspaceResources, record: ComputeTargetRecord) -> ComputeTargetRecord:
    """The record of a target whose head is running: a head Runyard started that is gone
    (the machine restarted) is started again, once, whoever asks first.

    Raises:
        BackendError: the head runs on another machine, or could not be started.
    """
    settings = ClusterSettings.from_config(record.name, record.config)
    if settings.mode == ATTACHED:
        return record
    if settings.head is not None and settings.head.host != processes.hostname():
        if settings.head.processes_alive():  # not knowable from here: taken as running
            return record
        raise BackendError(
            f"The Ray head of target {record.name!r} runs on {settings.head.host!r}; submit "
            "from that machine, or attach to it with an address."
        )
    folder = heads.head_folder(
        resources.settings, resources.config.resolved_tracking_uri, record.name
    )
    os.makedirs(folder, mode=0o700, exist_ok=True)
    # Also when the head runs: the idle watch stops it under this lock after looking for
    # runs, so a run submitted now (Queued already) either keeps it up or finds it stopped.
    with FileLock(f"{folder.rstrip(os.sep)}.lock"):  # removed with the folder by delete()
        fresh = resources.store.get_compute_target(record.name)
        settings = ClusterSettings.from_config(fresh.name, fresh.config)
        if settings.head is not None and settings.head.processes_alive():
            known = ClusterSettings.from_config(record.name, record.config).head
            # another process restarted it meanwhile: the caller needs the new record
            return record if known and known.pgid == settings.head.pgid else fresh
        return provision(resources, fresh)


def deprovision(resources: WorkspaceResources, record: ComputeTargetRecord) -> None:
    """Stop what Runyard started for the target: its runs (Canceled) and its head."""
    settings = ClusterSettings.from_config(record.name, record.config)
    _stop_runs(resources, record.name, settings)
    from runyard.compute.ray.dispatcher import dispatcher_job_id

    with contextlib.suppress(BackendError):  # an unreachable cluster has nothing to stop
        client = RayJobsClient(settings.job_api_address(), settings.token())
        dispatcher = dispatcher_job_id(resources.config.resolved_tracking_uri, record.name)
        client.stop(dispatcher)
        if settings.mode == ATTACHED:
            client.delete(dispatcher)
    if settings.mode != ATTACHED and settings.head is not None:
        heads.stop_local_head(settings.head)
        heads.remove_head_folder(settings.head)


def _stop_runs(resources: WorkspaceResources, target: str, settings: ClusterSettings) -> None:
    """Cancel the target's active runs, give them a moment to end as Canceled, and mark the
    rest Failed: nothing is left active on a target that no longer exists."""
    store = resources.store
    statuses = [s for s in RunStatus if s not in TERMINAL_STATUSES and s != RunStatus.NOT_STARTED]
    active = store.list_runs(statuses=statuses, target=target)
    if not active:
        return
    from runyard.compute.ray.jobs import end_run, job_id_of

    client: RayJobsClient | None = None
    with contextlib.suppress(BackendError):
        client = RayJobsClient(settings.job_api_address(), settings.token())
    for run in active:
        with contextlib.suppress(InvalidState):
            store.set_run_status(run.run_id, RunStatus.CANCEL_REQUESTED, expected=[run.status])
        if client is not None:
            with contextlib.suppress(BackendError):
                client.stop(job_id_of(run.run_id))
    deadline = time.monotonic() + DELETE_GRACE_S
    pending = {r.run_id for r in active}
    while pending and time.monotonic() < deadline:
        time.sleep(0.5)
        pending = {rid for rid in pending if not store.get_run(rid).is_terminal}
    for run_id in pending:
        current = store.get_run(run_id)
        canceled = current.status == RunStatus.CANCEL_REQUESTED
        end_run(
            store,
            current,
            RunStatus.CANCELED if canceled else RunStatus.FAILED,
            f"The compute target {target!r} was deleted while the run was {current.status.value}.",
        )


def _shape_dict(shape: NodeShape) -> dict[str, Any]:
    return {
        "name": shape.name,
        "cpus": shape.cpus,
        "gpus": shape.gpus,
        "memory_gb": shape.memory_gb,
        "gpu_model": shape.gpu_model,
    }

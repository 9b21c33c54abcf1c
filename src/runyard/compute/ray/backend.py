"""RayComputeBackend: a run's executor as a Ray task on a node that has what the run asks for.

``launch`` records what the run reserves (one node of the target's ``vm_size``, see
:mod:`runyard.compute.ray.placement`) in ``details["rayDispatch"]`` and makes sure the
target's dispatcher runs (:mod:`runyard.compute.ray.dispatcher`, a long-lived Ray job);
the dispatcher submits one Ray task per run with those resources. Ray keeps the task
waiting while no node can hold it (the cluster full, or its autoscaler adding a node), so
the run stays visibly Queued until its executor starts on a node and moves it on. A
distributed run (several processes) is placed by its own Ray job instead
(:mod:`runyard.compute.ray.gang`).

``cancel``: a run whose executor has not started is marked Canceled here (the dispatcher
drops its task); a running executor sees CancelRequested in the store, stops its script
and marks the run Canceled.

An executor that dies with its node stops heart-beating and the run is marked Failed by
:mod:`runyard.node.liveness`; a node lost while its machine lives on is caught by the
executor's watcher (:mod:`runyard.compute.ray.entry`), which marks the run Failed saying so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shlex
import time
from typing import TYPE_CHECKING, Any

from runyard.compute.backend import ComputeBackend, ResourceRequest, TargetStatus
from runyard.compute.layout import Layout, layout_of
from runyard.compute.ray.dispatcher import dispatcher_job_id, ensure_dispatcher
from runyard.compute.ray.entry import JOB_API_ENV
from runyard.compute.ray.gang import GANG_ENV
from runyard.compute.ray.idle import STOPPED_IDLE_AT
from runyard.compute.ray.jobs import RayJobsClient, RayNode, end_run, job_id_of
from runyard.compute.ray.placement import (
    Placement,
    check_gang_fits,
    gang_bundle,
    machine_shape,
    place_on_cluster,
    place_on_local_head,
)
from runyard.compute.ray.settings import (
    ATTACHED,
    LOCAL,
    SIMULATED,
    ClusterSettings,
    address_is_this_machine,
    check_server_reaches_nodes,
    check_workspace_reaches_nodes,
)
from runyard.entities.run import TERMINAL_STATUSES, RunRecord, RunStatus
from runyard.entities.run_details import EXECUTOR, PLACEMENT, ExecutorInfo
from runyard.entities.run_details import Placement as Placement_
from runyard.errors import BackendError, RunyardError

if TYPE_CHECKING:
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.entities.definition import RunDefinition
    from runyard.resources import WorkspaceResources

#: Seconds Ray waits, after SIGTERM, for an executor to end its run before SIGKILL.
STOP_GRACE_S = 60
_ACTIVE = [s for s in RunStatus if s not in TERMINAL_STATUSES and s != RunStatus.NOT_STARTED]


class RayComputeBackend(ComputeBackend):
    """Places executors on a Ray cluster (a local head Runyard owns, Ray's autoscaling
    test cluster, or an attached cluster).

    Args:
        resources: the workspace (stores and settings) the runs belong to.
        record: the target (``kind`` ``cluster``; its config as ``ClusterSettings`` reads).
    """

    def __init__(self, resources: WorkspaceResources, record: ComputeTargetRecord) -> None:
        super().__init__(resources, record)
        self._settings = ClusterSettings.from_config(record.name, record.config)
        self._client_obj: RayJobsClient | None = None

    @property
    def settings(self) -> ClusterSettings:
        return self._settings

    @property
    def address(self) -> str | None:
        """The job API URL of the target's Ray cluster."""
        settings = self._settings
        return settings.address or (settings.head.address if settings.head else None)

    def dashboard(self) -> tuple[str, str | None] | None:
        """The Ray cluster's dashboard (where Ray Serve's REST API is) and its token; a
        stopped local head is started again first."""
        if self._settings.mode != ATTACHED:
            from runyard.compute.ray.provision import ensure_head

            record = ensure_head(self._resources, self._record)
            if record is not self._record:
                self._record = record
                self._settings = ClusterSettings.from_config(record.name, record.config)
                self._client_obj = None
        return self._settings.job_api_address(), self._settings.token()

    def nodes_share_this_machine(self) -> bool:
        """A head Runyard starts is this machine; an attached cluster is when its address
        and every live node's address are this machine's."""
        if self._settings.mode != ATTACHED:
            return True
        if not address_is_this_machine(self._settings.job_api_address()):
            return False
        return all(address_is_this_machine(n.ip) for n in self._client().nodes() if n.alive)

    # -- provisioning -----------------------------------------------------------------
    def provision(self) -> ComputeTargetRecord:
        """Start the target's Ray head (or check the attached cluster); the record saved."""
        from runyard.compute.ray.provision import provision

        self._record = provision(self._resources, self._record)
        self._settings = ClusterSettings.from_config(self._record.name, self._record.config)
        self._client_obj = None
        # The dispatcher takes seconds to start: now, so that the first run does not wait.
        self.ensure_dispatcher(self._resources.config.to_json())
        return self._record

    def deprovision(self) -> None:
        """Stop the target's runs and the Ray head Runyard started (an attached cluster is
        left running)."""
        from runyard.compute.ray.provision import deprovision

        deprovision(self._resources, self._record)

    def _client(self) -> RayJobsClient:
        if self._client_obj is None:
            self._client_obj = RayJobsClient(
                self._settings.job_api_address(), self._settings.token()
            )
        return self._client_obj

    # -- launch -----------------------------------------------------------------------
    def launch(self, run_id: str, definition: RunDefinition) -> None:
        """Queue the run for the target's dispatcher, which places its executor as a Ray
        task (a distributed run: as its own Ray job); it waits in Ray until a node is free.

        Raises:
            BackendError: the cluster cannot be reached (or its head restarted).
            InvalidArgument: no node has, or could be added with, what the run needs
                (the message says what the cluster offers); an embedded workspace with
                nodes on other machines.
        """
        if self._settings.mode != ATTACHED:
            from runyard.compute.ray.provision import ensure_head

            record = ensure_head(self._resources, self._record)
            if record is not self._record:  # the head was restarted: new ports and token
                self._record = record
                self._settings = ClusterSettings.from_config(record.name, record.config)
                self._client_obj = None
        client = self._client()
        nodes = client.nodes()
        address = client.address
        node_ips = [n.ip for n in nodes if n.alive]
        served = self._resources.node_access is not None
        if served:
            access = self._resources.node_env(run_id)
            check_server_reaches_nodes(access, self._record.name, address, node_ips)
        else:
            check_workspace_reaches_nodes(
                self._resources.config, self._record.name, address, node_ips
            )
        resources = definition.resources
        placement = self._place(resources, nodes)
        env = self._settings.forwarded_environment(self._resources.settings, served=served)
        python = self._settings.executor_python()
        layout = layout_of(definition.distributed, resources.node_count)
        if served:
            # A team server's run: the node gets the server's URL and a token scoped to
            # the run, never the workspace's config, so no long-lived dispatcher (which
            # reads the store) runs in the cluster; each run is a Ray job of its own.
            env = {**env, **access}
            if layout.processes > 1:
                placement = self._place_gang(placement, layout, nodes)
                self._submit_gang(run_id, env, python, placement, layout)
            else:
                self._submit_job(run_id, env, python, placement)
            return
        workspace_json = self._resources.config.to_json()
        env = {"RUNYARD_WORKSPACE": workspace_json, **env}
        if layout.processes > 1:
            placement = self._place_gang(placement, layout, nodes)
            self._submit_gang(run_id, env, python, placement, layout)
            return
        self.ensure_dispatcher(workspace_json)
        self._resources.store.update_run(
            run_id,
            details={
                "rayDispatch": {
                    "address": address,
                    "requestedAt": time.time(),
                    "cpus": placement.num_cpus,
                    "gpus": placement.num_gpus,
                    "memoryBytes": placement.memory_bytes,
                    "python": python,
                    "env": {k: v for k, v in env.items() if k != "RUNYARD_WORKSPACE"},
                    "warnings": placement.warnings,
                }
            },
        )

    def ensure_dispatcher(self, workspace_json: str) -> str:
        """Start the target's dispatcher unless it runs; its Ray job status."""
        return ensure_dispatcher(
            self._client(),
            job_id=dispatcher_job_id(
                self._resources.config.resolved_tracking_uri, self._record.name
            ),
            target=self._record.name,
            python=self._settings.executor_python(),
            workspace_json=workspace_json,
            env=self._settings.forwarded_environment(self._resources.settings),
        )

    def _submit_job(
        self, run_id: str, env: dict[str, str], python: str, placement: Placement
    ) -> None:
        """Submit the run's executor as a Ray job of its own, holding what the run
        reserves: Ray starts it on a node that has that (it waits pending until one has)."""
        client = self._client()
        client.submit(
            job_id_of(run_id),
            "exec " + shlex.join([python, "-m", "runyard.compute.ray.entry", run_id]),
            env_vars={
                **env,
                "RAY_JOB_STOP_WAIT_TIME_S": str(STOP_GRACE_S),
                JOB_API_ENV: client.address,  # the executor asks it which node it is on
            },
            num_cpus=placement.num_cpus,
            num_gpus=placement.num_gpus,
            memory_bytes=placement.memory_bytes,
            metadata={"runyard_run_id": run_id, "runyard_target": self._record.name},
        )
        self._record_job(run_id, client.address, 1, placement)

    def _submit_gang(
        self,
        run_id: str,
        env: dict[str, str],
        python: str,
        bundle: Placement,
        layout: Layout,
    ) -> None:
        client = self._client()
        job_env = {
            **env,
            "RAY_JOB_STOP_WAIT_TIME_S": str(STOP_GRACE_S),
            GANG_ENV: json.dumps(
                {
                    "layout": dataclasses.asdict(layout),
                    "bundle": {"CPU": bundle.num_cpus, "GPU": bundle.num_gpus},
                    "python": python,
                    "env": env,
                }
            ),
        }
        client.submit(
            job_id_of(run_id),
            "exec " + shlex.join([python, "-m", "runyard.compute.ray.gang", run_id]),
            env_vars=job_env,
            num_cpus=0,  # the gang only places its processes; each bundle holds one
            num_gpus=0,
            metadata={"runyard_run_id": run_id, "runyard_target": self._record.name},
        )
        self._record_job(run_id, client.address, layout.processes, bundle)

    def _record_job(self, run_id: str, address: str, processes: int, bundle: Placement) -> None:
        """Note in the run's details the Ray job that carries it (what the sweeper's
        reconciliation and cancel look up)."""
        self._resources.store.update_run(
            run_id,
            details={
                "rayJob": {
                    "submissionId": job_id_of(run_id),
                    "address": address,
                    "submittedAt": time.time(),
                    "processes": processes,
                    "bundle": {"cpus": bundle.num_cpus, "gpus": bundle.num_gpus},
                    "warnings": bundle.warnings,
                }
            },
        )

    def _place_gang(self, placement: Placement, layout: Layout, nodes: list[RayNode]) -> Placement:
        local = self._settings.mode == LOCAL
        bundle = gang_bundle(placement, layout.processes, layout.per_node, local=local)
        if not local:
            workers = [n for n in nodes if n.alive and not n.is_head]
            addable = max(0, self._settings.max_nodes - len(workers))
            check_gang_fits(
                bundle,
                layout.processes,
                nodes,
                self._settings.size,
                addable,
                target=self._record.name,
            )
        return bundle

    def _place(self, resources: ResourceRequest, nodes: list[RayNode]) -> Placement:
        settings = self._settings
        if settings.mode == LOCAL:
            head = next((n for n in nodes if n.is_head and n.alive), None)
            if head is None:
                raise BackendError(
                    f"The local Ray head of target {self._record.name!r} reports no live node."
                )
            return place_on_local_head(
                resources,
                settings.size,
                machine_shape(head.resources),
                self._record.name,
                nodes=settings.max_nodes,
            )
        workers = [n for n in nodes if n.alive and not n.is_head]
        return place_on_cluster(
            resources,
            settings.size,
            nodes,
            target=self._record.name,
            address=self._client().address,
            can_add_size_nodes=settings.mode == SIMULATED or len(workers) < settings.max_nodes,
        )

    # -- cancel -----------------------------------------------------------------------
    def cancel(self, run_id: str) -> None:
        """Cancel a run whose executor has not started (its task or job never runs); a
        running executor marks its run Canceled itself, on seeing CancelRequested."""
        store = self._resources.store
        record = store.get_run(run_id)
        if record.is_terminal:
            return
        if "rayJob" in record.details:  # a distributed run: its gang passes the stop on
            with contextlib.suppress(BackendError):
                self._client().stop(job_id_of(run_id))
        if not _executor_started(record):
            end_run(store, record, RunStatus.CANCELED, "Canceled before it started.")

    # -- state ------------------------------------------------------------------------
    def status(self) -> TargetStatus:
        """The cluster's nodes (busy: running one of this target's runs), its runs, and
        what provisioning said; state ``Failed`` with the reason when it cannot be
        reached."""
        settings = self._settings
        details: dict[str, Any] = {
            "mode": settings.mode,
            "vm_size": settings.size.name,
            "node": (settings.node or settings.size).describe(),
            "min_nodes": settings.min_nodes,
            "max_nodes": settings.max_nodes,
            "warnings": list(settings.warnings),
        }
        store = self._resources.store
        runs = store.list_runs(statuses=_ACTIVE, target=self._record.name)
        queued = sum(1 for r in runs if r.status == RunStatus.QUEUED)
        if settings.mode != ATTACHED and settings.head is None:
            return TargetStatus("Creating", queued_runs=queued, details=details)
        stopped_at = self._record.config.get(STOPPED_IDLE_AT)
        if settings.head is not None and stopped_at and not settings.head.processes_alive():
            details["head"] = (
                f"stopped after {settings.idle_seconds:g} s without runs; it starts again "
                "on the next submit"
            )
            details["headStoppedIdleAt"] = stopped_at
            return TargetStatus(
                "Succeeded", queued_runs=queued, running_runs=len(runs) - queued, details=details
            )
        try:
            client = self._client()
            details["address"] = client.address
            nodes = [n for n in client.nodes() if n.alive]
            jobs = {j.submission_id: j for j in client.jobs()}
        except RunyardError as exc:
            details["error"] = str(exc)
            return TargetStatus(
                "Failed", queued_runs=queued, running_runs=len(runs) - queued, details=details
            )
        self.reconcile(runs, jobs)
        if settings.mode == SIMULATED:
            nodes = [n for n in nodes if not n.is_head]  # the head holds no runs
        runs = store.list_runs(statuses=_ACTIVE, target=self._record.name)
        busy_nodes = {
            Placement_.from_dict(r.details.get(PLACEMENT)).node
            for r in runs
            if _executor_started(r)
        }
        for run in runs:  # a distributed run's processes: on the nodes of its gang
            processes = (run.details.get("distributed") or {}).get("processes") or []
            busy_nodes |= {p.get("node") for p in processes if "exitCode" not in p}
        dispatcher = jobs.get(
            dispatcher_job_id(self._resources.config.resolved_tracking_uri, self._record.name)
        )
        details["dispatcher"] = dispatcher.status if dispatcher is not None else "not started"
        waiting = any(r.status == RunStatus.QUEUED and "rayDispatch" in r.details for r in runs)
        if waiting and (dispatcher is None or dispatcher.is_terminal):
            # Runs wait for a dispatcher that is gone (it died with its node): start another.
            details["dispatcher"] = self.ensure_dispatcher(self._resources.config.to_json())
        busy = sum(1 for n in nodes if n.node_id in busy_nodes)
        details["nodes"] = [
            {"id": n.node_id, "ip": n.ip, "head": n.is_head, "resources": n.resources}
            for n in nodes
        ]
        queued = sum(1 for r in runs if r.status == RunStatus.QUEUED)
        return TargetStatus(
            "Succeeded",
            nodes_busy=busy,
            nodes_idle=len(nodes) - busy,
            queued_runs=queued,
            running_runs=len(runs) - queued,
            details=details,
        )

    def reconcile(
        self, runs: list[RunRecord] | None = None, jobs: dict[str, Any] | None = None
    ) -> None:
        """Mark Failed the active distributed runs whose Ray job ended (or vanished)
        before their executor started: Ray could not start it, so nothing else ever will.
        (The dispatcher does the same for the runs it placed.)"""
        store = self._resources.store
        if runs is None:
            runs = store.list_runs(statuses=_ACTIVE, target=self._record.name)
        waiting = [r for r in runs if not _executor_started(r) and "rayJob" in r.details]
        if not waiting:
            return
        client = self._client()
        if jobs is None:
            jobs = {j.submission_id: j for j in client.jobs()}
        for record in waiting:
            job = jobs.get(job_id_of(record.run_id))
            if job is not None and not job.is_terminal:
                continue
            fresh = store.get_run(record.run_id)
            if _executor_started(fresh) or fresh.is_terminal:
                continue
            reason = (
                f"Ray ended the run's job ({job.status}: {job.message})"
                if job is not None
                else "The Ray cluster no longer knows the run's job (it was restarted)"
            )
            if fresh.status == RunStatus.CANCEL_REQUESTED:
                end_run(store, fresh, RunStatus.CANCELED, "Canceled before it started.")
            else:
                end_run(store, fresh, RunStatus.FAILED, f"{reason} before its executor started.")


def _executor_started(record: RunRecord) -> bool:
    return ExecutorInfo.from_dict(record.details.get(EXECUTOR)).started_at is not None

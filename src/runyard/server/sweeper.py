"""The server's liveness sweeper: a background thread that marks the runs whose executor
died (``runyard.node.liveness.sweep``) in every served workspace, so no client has to be
watching, marks Failed the runs whose Ray job ended before their executor started, and
revokes the tokens of the runs that ended."""

from __future__ import annotations

import logging
import threading

from runyard.entities.run import RunStatus
from runyard.node.liveness import sweep
from runyard.resources import WorkspaceResources
from runyard.server.node_access import NodeAccess
from runyard.server.workspaces import WorkspaceRegistry

log = logging.getLogger("runyard.server")


class Sweeper:
    """Sweeps ``registry``'s workspaces every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(
        self,
        registry: WorkspaceRegistry,
        interval_s: float,
        interactive_timeout_s: float | None = None,
    ) -> None:
        self._registry = registry
        self._interval_s = interval_s
        self._interactive_timeout_s = interactive_timeout_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="runyard-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def sweep_once(self) -> None:
        """One pass over every served workspace (a failing workspace does not stop it)."""
        for name in self._registry.names():
            try:
                resources = self._registry.get(name)
                swept = sweep(resources, interactive_timeout_s=self._interactive_timeout_s)
                for ended in swept:
                    log.info("Run %s of workspace %s: its executor was gone", ended.run_id, name)
                reconcile_ray_jobs(resources)
                if isinstance(resources.node_access, NodeAccess):
                    resources.node_access.revoke_ended(resources.store)
            except Exception:  # the next pass tries again; the server keeps serving
                log.exception("Sweeping workspace %s failed", name)

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval_s):
            self.sweep_once()

    def stop(self) -> None:
        """Stop sweeping (waits for a pass in progress)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)


def reconcile_ray_jobs(resources: WorkspaceResources) -> None:
    """Mark Failed (Canceled when asked) the workspace's waiting runs whose own Ray job
    ended before their executor started: Ray could not start it (no such interpreter on
    the node, the node lost), so nothing else ever will. A run never started has no
    heartbeat for the liveness sweep to miss, and without this it would wait Queued until
    someone asked for its target's status."""
    waiting = resources.store.list_runs(statuses=[RunStatus.QUEUED, RunStatus.CANCEL_REQUESTED])
    targets = sorted({r.target for r in waiting if r.target and "rayJob" in r.details})
    if not targets:
        return
    from runyard.compute.ray.backend import RayComputeBackend
    from runyard.compute.registry import backend_for

    for target in targets:
        backend = backend_for(resources, resources.store.get_compute_target(target))
        try:
            if isinstance(backend, RayComputeBackend):
                backend.reconcile()
        finally:
            backend.close()

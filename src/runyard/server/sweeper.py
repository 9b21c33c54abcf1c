"""The server's liveness sweeper: a background thread that marks the runs whose executor
died (``runyard.node.liveness.sweep``) in every served workspace, so no client has to be
watching, and revokes the tokens of the runs that ended."""

from __future__ import annotations

import logging
import threading

from runyard.node.liveness import sweep
from runyard.server.node_access import NodeAccess
from runyard.server.workspaces import WorkspaceRegistry

log = logging.getLogger("runyard.server")


class Sweeper:
    """Sweeps ``registry``'s workspaces every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, registry: WorkspaceRegistry, interval_s: float) -> None:
        self._registry = registry
        self._interval_s = interval_s
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
                for ended in sweep(resources):
                    log.info("Run %s of workspace %s: its executor was gone", ended.run_id, name)
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

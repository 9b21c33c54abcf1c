"""ServerComputeBackend: a team server's workspace runs its runs on the server's targets.

A client of a server workspace (a config naming ``server``) records its run as Queued
and uploads the snapshot through the API like any other write; this backend then asks the
server to launch the run (``POST /runs/{id}/launch``). The server's own backend for the
target places the executor, which reaches the workspace only through the API with a token
scoped to its run. Cancels and target statuses go through the server too, so the client
needs neither the workspace's database nor its storage nor the target's machines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from runyard.compute.backend import ComputeBackend, TargetStatus
from runyard.errors import InvalidArgument
from runyard.rest_client import ApiClient

if TYPE_CHECKING:
    from runyard.entities.compute import ComputeTargetRecord
    from runyard.entities.definition import RunDefinition
    from runyard.resources import WorkspaceResources

#: The target kind every server has without being created (its own machine).
BUILT_IN = "local"


class ServerComputeBackend(ComputeBackend):
    """Launches, cancels and describes runs of one target of a server workspace through
    the server's API, with the caller's token (``RUNYARD_TOKEN``).

    Raises (on construction):
        InvalidArgument: the workspace's config names no server.
    """

    def __init__(self, resources: WorkspaceResources, record: ComputeTargetRecord) -> None:
        super().__init__(resources, record)
        server = resources.config.server
        if not server:
            raise InvalidArgument(
                f"Workspace {resources.name!r} is not a server's workspace (its config names "
                "no server), so its runs are placed by this process, not by a server."
            )
        self._client = ApiClient(server, token=resources.token)
        self._base = f"/workspaces/{quote(resources.name, safe='')}"

    def provision(self) -> ComputeTargetRecord:
        """Nothing to start: the server's built-in machine, or a Ray cluster that runs
        already (a target with an ``address``), which the server attaches to when a run is
        launched there; other kinds are refused.

        Raises:
            InvalidArgument: the target would need machines started (a cluster target
                without an ``address``).
        """
        self._refuse_unless_nothing_to_start("created")
        return self._record

    def deprovision(self) -> None:
        """Nothing to stop (an attached cluster is left running); other kinds are refused.

        Raises:
            InvalidArgument: as :meth:`provision`.
        """
        self._refuse_unless_nothing_to_start("deleted")

    def _refuse_unless_nothing_to_start(self, what: str) -> None:
        if self._record.kind == BUILT_IN or self._record.config.get("address"):
            return
        raise InvalidArgument(
            f"Compute target {self._record.name!r} (kind {self._record.kind!r}) cannot be "
            f"{what} through the server of workspace {self._resources.name!r}: a client "
            "may create only local targets there and cluster targets attached to a running "
            "Ray cluster (AmlCompute.provisioning_configuration(address='http://HEAD:8265')). "
            "Create clusters Runyard starts on the server's machine, with the workspace's "
            "own config."
        )

    def launch(self, run_id: str, definition: RunDefinition) -> None:
        """Ask the server to start the Queued run's executor on the target.

        Raises:
            NotFound, InvalidState, Forbidden, BackendError: as the server answers (no such
            run or target, the run is not Queued, the caller may not launch it, the
            server's backend failed).
        """
        self._client.request(
            "POST", f"{self._base}/runs/{quote(run_id, safe='')}/launch", json=definition.to_dict()
        )

    def cancel(self, run_id: str) -> None:
        """Ask the server to stop the run's executor (it marks the run Canceled)."""
        self._client.request("POST", f"{self._base}/runs/{quote(run_id, safe='')}/cancel")

    def status(self) -> TargetStatus:
        """The target's state as the server's backend sees it."""
        name = quote(self._record.name, safe="")
        data = self._client.request("GET", f"{self._base}/compute-targets/{name}/status").json()
        return TargetStatus(
            state=str(data["state"]),
            nodes_busy=int(data.get("nodesBusy", 0)),
            nodes_idle=int(data.get("nodesIdle", 0)),
            queued_runs=int(data.get("queuedRuns", 0)),
            running_runs=int(data.get("runningRuns", 0)),
            details=dict(data.get("details") or {}),
        )

    def close(self) -> None:
        self._client.close()


def launch_on_server(resources: WorkspaceResources, run_id: str, claim: str) -> None:
    """Ask the server of ``resources``' workspace to start the controller of HyperDrive
    run ``run_id`` under ``claim`` (``<generation>:<token>``, claimed in the run's
    properties by the caller), from the definition the run holds.

    Raises:
        InvalidArgument: the run holds no definition. NotFound, InvalidState, Forbidden,
        BackendError: as the server answers.
    """
    from runyard.entities.definition import RunDefinition
    from runyard.entities.run_details import RUN_DEFINITION

    record = resources.store.get_run(run_id)
    definition = RunDefinition.from_dict(record.details.get(RUN_DEFINITION))
    client = ApiClient(str(resources.config.server), token=resources.token)
    try:
        client.request(
            "POST",
            f"/workspaces/{quote(resources.name, safe='')}/runs/{quote(run_id, safe='')}/launch",
            json=definition.to_dict(),
            params={"claim": claim},
        )
    finally:
        client.close()

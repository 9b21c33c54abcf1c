"""A small client of a Ray cluster's HTTP API (the dashboard's job and state endpoints).

Runyard places executors as Ray *jobs*: Ray keeps a job pending until a node has the
resources it asks for, runs its entrypoint on that node, and stops it on request. Talking
to the job API over HTTP (Ray's documented REST API) keeps the submitting process free of
``import ray`` (about a second) and of Ray's process-wide settings: the address and the
token given here are the only ones used, whatever ``RAY_ADDRESS`` says.

Every failure is translated into the Runyard error tree at this boundary: an unreachable
cluster is a :class:`~runyard.errors.BackendError` naming the address and what to check.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runyard.compute.addresses import normalise_address
from runyard.entities.run import RunErrorCode, RunRecord, RunStatus
from runyard.errors import BackendError, InvalidState, NotFound, Unauthorized

if TYPE_CHECKING:
    from runyard.tracking.store import TrackingStore

#: Ray job statuses, as the job API spells them.
PENDING = "PENDING"
RUNNING = "RUNNING"
STOPPED = "STOPPED"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
JOB_TERMINAL = frozenset({STOPPED, SUCCEEDED, FAILED})
SUBMIT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RayNode:
    """One node of the cluster, as the state API reports it."""

    node_id: str
    alive: bool
    is_head: bool
    resources: dict[str, float]
    ip: str = ""

    @property
    def cpus(self) -> float:
        return self.resources.get("CPU", 0.0)

    @property
    def gpus(self) -> float:
        return self.resources.get("GPU", 0.0)

    @property
    def memory_gb(self) -> float:
        return self.resources.get("memory", 0.0) / 2**30


@dataclass
class RayJob:
    """A job's status as the job API reports it."""

    submission_id: str
    status: str
    message: str = ""
    node_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    entrypoint: str = ""

    @property
    def is_terminal(self) -> bool:
        return self.status in JOB_TERMINAL


class RayJobsClient:
    """The job and state API of one Ray cluster.

    Args:
        address: the dashboard URL (see :func:`normalise_address`).
        token: the cluster's authentication token, sent as a bearer token (None: no
            token, for clusters without token authentication).
        timeout: seconds to wait for each HTTP answer.
    """

    def __init__(self, address: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.address = normalise_address(address)
        self._token = token
        self._timeout = timeout

    # -- HTTP ------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.address + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self._timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip()
            if exc.code == 401 or exc.code == 403:
                raise Unauthorized(
                    f"The Ray cluster at {self.address} refused Runyard's request ({exc.code}: "
                    f"{_first_line(text)}). It uses token authentication: give its token "
                    "(RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token, as for "
                    "'ray job submit')."
                ) from exc
            if exc.code == 404:
                raise NotFound(f"{method} {path} on {self.address}: {_first_line(text)}") from exc
            raise BackendError(
                f"The Ray cluster at {self.address} answered {exc.code} to {method} {path}: "
                f"{_last_line(text)}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendError(
                f"Cannot reach the Ray cluster at {self.address} ({reason}). Check that the "
                "cluster is up and that its dashboard (job API) is reachable from this "
                "machine; for a target Runyard started, its head may have stopped: "
                "recreate the target (ComputeTarget.create) or delete it."
            ) from exc
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BackendError(
                f"{self.address}{path} did not answer JSON; is it a Ray dashboard? "
                f"({_first_line(raw.decode('utf-8', 'replace'))})"
            ) from exc

    # -- the cluster -----------------------------------------------------------------
    def version(self) -> str:
        """The cluster's Ray version; the cheapest proof that it is up and reachable."""
        answer = self._request("GET", "/api/version")
        return str((answer or {}).get("ray_version", "?"))

    def nodes(self) -> list[RayNode]:
        """Every node the cluster knows, alive or dead."""
        answer = self._request("GET", "/api/v0/nodes?detail=1&limit=10000")
        rows = ((answer or {}).get("data") or {}).get("result") or {}
        if isinstance(rows, dict):
            rows = rows.get("result") or []
        return [
            RayNode(
                node_id=str(row.get("node_id")),
                alive=row.get("state") == "ALIVE",
                is_head=bool(row.get("is_head_node")),
                resources={k: float(v) for k, v in (row.get("resources_total") or {}).items()},
                ip=str(row.get("node_ip") or ""),
            )
            for row in rows
        ]

    # -- jobs ------------------------------------------------------------------------
    def submit(
        self,
        submission_id: str,
        entrypoint: str,
        *,
        env_vars: dict[str, str],
        num_cpus: float,
        num_gpus: float,
        memory_bytes: int | None = None,
        resources: dict[str, float] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Submit a job; Ray keeps it pending until a node can hold it."""
        body: dict[str, Any] = {
            "entrypoint": entrypoint,
            "submission_id": submission_id,
            "runtime_env": {"env_vars": env_vars},
            "metadata": metadata or {},
            "entrypoint_num_cpus": num_cpus,
            "entrypoint_num_gpus": num_gpus,
        }
        if memory_bytes:
            body["entrypoint_memory"] = int(memory_bytes)
        if resources:
            body["entrypoint_resources"] = resources
        # A fresh cluster answers "no available agent" until its job agent is up; the
        # dashboard itself waits ~10 s for one, so give each try longer than that.
        deadline = time.monotonic() + SUBMIT_TIMEOUT_S
        while True:
            try:
                self._request("POST", "/api/jobs/", body, timeout=SUBMIT_TIMEOUT_S)
                return
            except BackendError as exc:
                if "available agent" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise BackendError(
                        f"The Ray cluster at {self.address} has no job agent on its head "
                        f"after {SUBMIT_TIMEOUT_S:.0f} s, so it takes no jobs. Its dashboard "
                        "agent did not start: see dashboard_agent.log in the head's Ray "
                        "logs (a common cause is its listen port, 52365 by default, "
                        "already in use; 'ray start --dashboard-agent-listen-port' "
                        "chooses another)."
                    ) from exc
            time.sleep(1.0)

    def job(self, submission_id: str) -> RayJob:
        """Raises NotFound when the cluster has no such job."""
        row = self._request("GET", f"/api/jobs/{urllib.parse.quote(submission_id, safe='')}")
        return _job_from_row(row or {})

    def jobs(self) -> list[RayJob]:
        """Every job the cluster remembers."""
        rows = self._request("GET", "/api/jobs/") or []
        return [_job_from_row(row) for row in rows if row.get("submission_id")]

    def stop(self, submission_id: str) -> bool:
        """Stop a job (SIGTERM to its entrypoint's process group, then SIGKILL); a pending
        job never starts. Whether the job was still going; False when it is unknown."""
        try:
            answer = self._request(
                "POST", f"/api/jobs/{urllib.parse.quote(submission_id, safe='')}/stop"
            )
        except NotFound:
            return False
        return bool((answer or {}).get("stopped"))

    def delete(self, submission_id: str) -> None:
        """Forget an ended job (its id may then be used again); an unknown job is fine."""
        with contextlib.suppress(NotFound):
            self._request("DELETE", f"/api/jobs/{urllib.parse.quote(submission_id, safe='')}")

    def logs(self, submission_id: str) -> str:
        """The job's entrypoint output as Ray captured it (the executor's own output)."""
        answer = self._request(
            "GET", f"/api/jobs/{urllib.parse.quote(submission_id, safe='')}/logs"
        )
        return str((answer or {}).get("logs", ""))


def _job_from_row(row: dict[str, Any]) -> RayJob:
    return RayJob(
        submission_id=str(row.get("submission_id") or ""),
        status=str(row.get("status") or ""),
        message=str(row.get("message") or ""),
        node_id=row.get("driver_node_id"),
        metadata=dict(row.get("metadata") or {}),
        entrypoint=str(row.get("entrypoint") or ""),
    )


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[-1][:500]


#: Ray job submission ids of runs start with this.
JOB_PREFIX = "runyard-"


def job_id_of(run_id: str) -> str:
    """The Ray job submission id of a run."""
    return JOB_PREFIX + run_id


def end_run(store: TrackingStore, record: RunRecord, status: RunStatus, message: str) -> None:
    """End a run whose executor is not there to do it (compare-and-set: a run that moved
    meanwhile is left to whoever moved it)."""
    code = RunErrorCode.CANCELED if status == RunStatus.CANCELED else RunErrorCode.EXECUTOR_LOST
    with contextlib.suppress(InvalidState, NotFound):
        store.set_run_status(
            record.run_id,
            status,
            error={"code": code.value, "message": message},
            expected=[record.status],
        )

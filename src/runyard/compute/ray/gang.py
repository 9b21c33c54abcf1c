"""The processes of one distributed run, placed together on a Ray cluster.

    exec python -m runyard.compute.ray.gang RUN_ID     (a Ray job's entrypoint; settings in
                                                        RUNYARD_RAY_GANG, see RayComputeBackend)

The gang is a small Ray driver. It asks Ray for a placement group of one bundle per process
(spread over the nodes; the run stays Queued while Ray cannot give them all), starts one
actor in each bundle, learns each actor's node and a free port there, and gives every
process its place in the job (:func:`runyard.compute.layout.process_environment`):
rank 0 runs the ordinary executor (``python -m runyard.node``), which carries the run;
the other ranks run :mod:`runyard.compute.ray.worker`.

When a worker fails (its script exits non-zero, or its node or process dies) while the
chief still runs, the run is marked Failed naming that worker and the other processes are
stopped. When the chief ends, the workers get a moment to end too, then are stopped. Ray's
``stop`` (``run.cancel()``) is passed on to every process. Each process dies with its actor
(the kernel's parent-death signal), so nothing outlives a lost node's actor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

GANG_ENV = "RUNYARD_RAY_GANG"
WORKER_GRACE_S = 30.0
STOP_GRACE_S = 30.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the actor that started it dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class GangMember:
    """A Ray actor holding one bundle: it runs one process of the run on its node."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def endpoint(self) -> tuple[str, int, str]:
        """This node's address, a port free on it now, and the node's id."""
        import ray

        host = ray.util.get_node_ip_address()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        return host, port, ray.get_runtime_context().get_node_id()

    def run(self, command: list[str], env: dict[str, str]) -> int:
        """Run ``command`` with ``env`` added to this actor's environment; its exit code."""
        full = dict(os.environ)
        full.update(env)
        self._proc = subprocess.Popen(command, env=full, preexec_fn=_die_with_parent)
        return self._proc.wait()

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM); it ends its part of the run."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)


class Gang:
    """Starts and watches the processes of run ``run_id``.

    Args:
        resources: the run's workspace.
        run_id: the run.
        spec: the gang settings: ``processes``, ``layout`` (a Layout as a dict), ``bundle``
            (``{"CPU": ..., "GPU": ...}``), ``python`` and ``env`` (variables for every
            process).
    """

    def __init__(self, resources: WorkspaceResources, run_id: str, spec: dict[str, Any]) -> None:
        from runyard.compute.layout import Layout

        self.resources = resources
        self.store = resources.store
        self.run_id = run_id
        self.spec = spec
        self.layout = Layout(**spec["layout"])
        self.stopping = threading.Event()

    def say(self, message: str) -> None:
        print(f"runyard gang {self.run_id}: {message}", flush=True)

    def _run_is_over(self) -> bool:
        from runyard.entities.run import RunStatus

        record = self.store.get_run(self.run_id)
        return record.is_terminal or record.status == RunStatus.CANCEL_REQUESTED

    def run(self) -> int:
        """Place the processes, run them, and return the chief's exit code."""
        import ray
        from ray.util.placement_group import placement_group, remove_placement_group

        ray.init(
            address=os.environ.get("RUNYARD_RAY_ADDRESS") or None,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        bundles = [dict(self.spec["bundle"]) for _ in range(self.layout.processes)]
        group = placement_group(bundles, strategy="SPREAD")
        try:
            self.say(f"waiting for {len(bundles)} bundles of {bundles[0]}")
            while not ray.wait([group.ready()], timeout=1.0)[0]:
                if self.stopping.is_set() or self._run_is_over():
                    self.say("the run ended while waiting for nodes")
                    return 0
            return self._run_members(group)
        finally:
            remove_placement_group(group)
            ray.shutdown()

    def _run_members(self, group: Any) -> int:
        import ray
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from runyard.compute.layout import process_environment

        bundle = self.spec["bundle"]
        member: Any = ray.remote(GangMember)
        actors: list[Any] = [
            member.options(
                num_cpus=bundle.get("CPU", 0),
                num_gpus=bundle.get("GPU", 0),
                max_concurrency=2,  # terminate() while run() waits
                scheduling_strategy=PlacementGroupSchedulingStrategy(
                    group, placement_group_bundle_index=i
                ),
            ).remote()
            for i in range(self.layout.processes)
        ]
        found = ray.get([a.endpoint.remote() for a in actors])
        endpoints = [(host, port) for host, port, _node in found]
        nodes = [node_id for _h, _p, node_id in found]
        python = self.spec["python"]
        refs = {}
        for rank, actor in enumerate(actors):
            env = {
                **self.spec.get("env", {}),
                **process_environment(self.layout, rank, endpoints, nodes),
            }
            command = (
                [python, "-m", "runyard.node", self.run_id]
                if rank == 0
                else [python, "-m", "runyard.compute.ray.worker", self.run_id, str(rank)]
            )
            refs[actor.run.remote(command, env)] = rank
        self._record(
            {
                "processes": [
                    {"rank": r, "address": f"{h}:{p}", "node": n}
                    for r, ((h, p), n) in enumerate(zip(endpoints, nodes, strict=True))
                ]
            }
        )
        codes = self._watch(actors, refs, endpoints)
        self._record(
            {
                "processes": [
                    {"rank": r, "address": f"{h}:{p}", "node": n, "exitCode": codes.get(r)}
                    for r, ((h, p), n) in enumerate(zip(endpoints, nodes, strict=True))
                ]
            }
        )
        for actor in actors:
            ray.kill(actor)
        chief = codes.get(0)
        return chief if isinstance(chief, int) else 1

    def _watch(
        self, actors: list[Any], refs: dict[Any, int], endpoints: list[tuple[str, int]]
    ) -> dict[int, int | None]:
        import ray

        codes: dict[int, int | None] = {}
        deadline: float | None = None
        terminated = False
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
            for ref in done:
                rank = refs.pop(ref)
                try:
                    codes[rank] = int(ray.get(ref))
                    why = f"exited with code {codes[rank]}"
                except ray.exceptions.RayError as exc:
                    codes[rank] = None
                    why = f"was lost with its node or process ({type(exc).__name__})"
                self.say(f"process {rank} {why}")
                if rank == 0:
                    if codes[0] != 0 and not terminated:  # workers would wait for it forever
                        terminated = self._terminate(actors, refs)
                        deadline = time.monotonic() + STOP_GRACE_S
                    else:
                        deadline = time.monotonic() + WORKER_GRACE_S
                elif codes[rank] != 0 and 0 in refs.values() and not terminated:
                    self._fail_for_worker(rank, endpoints[rank][0], why)
                    terminated = self._terminate(actors, refs)
            if self.stopping.is_set() and not terminated:
                terminated = self._terminate(actors, refs)
                deadline = time.monotonic() + STOP_GRACE_S
            if deadline is not None and time.monotonic() > deadline and refs:
                if not terminated:
                    terminated = self._terminate(actors, refs)
                    deadline = time.monotonic() + STOP_GRACE_S
                else:
                    for ref, rank in list(refs.items()):
                        ray.kill(actors[rank])
                        codes[rank] = None
                        refs.pop(ref)
        return codes

    def _terminate(self, actors: list[Any], refs: dict[Any, int]) -> bool:
        for rank in refs.values():
            with contextlib.suppress(Exception):
                actors[rank].terminate.remote()
        return True

    def _fail_for_worker(self, rank: int, host: str, why: str) -> None:
        from runyard.compute.ray.worker import worker_log_name
        from runyard.errors import InvalidState

        record = self.store.get_run(self.run_id)
        if record.is_terminal:
            return
        with contextlib.suppress(InvalidState):
            self.store.set_run_status(
                self.run_id,
                _failed_or_canceled(record.status),
                error={
                    "code": "WorkerFailed",
                    "message": (
                        f"Process {rank} of the distributed run (on {host}) {why}; the other "
                        f"processes were stopped. Its log: {worker_log_name(rank)}."
                    ),
                },
                expected=[record.status],
            )

    def _record(self, facts: dict[str, Any]) -> None:
        details = {"kind": self.layout.kind, "processes": self.layout.processes, **facts}
        with contextlib.suppress(Exception):
            self.store.update_run(self.run_id, details={"distributed": details})


if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources


def _failed_or_canceled(status: Any) -> Any:
    from runyard.entities.run import RunStatus

    return RunStatus.CANCELED if status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m runyard.compute.ray.gang RUN_ID``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not os.environ.get(GANG_ENV) or not os.environ.get("RUNYARD_WORKSPACE"):
        print(
            f"usage: {GANG_ENV}=<JSON> RUNYARD_WORKSPACE=<JSON> python -m "
            "runyard.compute.ray.gang RUN_ID",
            file=sys.stderr,
        )
        return 2
    from runyard.resources import WorkspaceResources

    resources = WorkspaceResources.from_json(os.environ["RUNYARD_WORKSPACE"])
    gang = Gang(resources, args[0], json.loads(os.environ[GANG_ENV]))
    signal.signal(signal.SIGTERM, lambda *_: gang.stopping.set())
    try:
        return gang.run()
    finally:
        resources.close()


if __name__ == "__main__":
    sys.exit(main())

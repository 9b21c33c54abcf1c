"""``python -m runyard.serving.local.supervisor FOLDER``: keep one service's scoring
server running.

Started detached by :class:`runyard.serving.local.backend.LocalServingBackend` (it
outlives the deploying process), in a session of its own so that stopping the service
stops its whole process group. It builds (or takes from the cache) the service's
environment, starts the scoring server in it with the listening socket it inherited,
and restarts the server when it crashes after having been ready, at most
:data:`MAX_CRASHES` times in :data:`CRASH_WINDOW_S`. An ``init()`` that fails is not
retried: the service is Failed. SIGHUP restarts the server (``reload``), SIGTERM stops.

What it sees goes to ``status.json`` (phase, port, server pid, restarts, error), which
the backend reads; its output and the server's go to ``service.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from runyard.entities.service import ServiceDefinition
from runyard.serving import layout
from runyard.serving.local.limits import GB, MemoryWatch, pin_cpus

ENV_LISTEN_FD = "RUNYARD_SERVICE_LISTEN_FD"
ENV_READY_FD = "RUNYARD_SERVICE_READY_FD"
#: Crashes within :data:`CRASH_WINDOW_S` after which the supervisor gives up.
MAX_CRASHES = 5
CRASH_WINDOW_S = 60.0
#: How many lines of an init() traceback the status keeps.
ERROR_LINES = 40


@dataclass
class _Supervisor:
    folder: str
    definition: ServiceDefinition
    listen_fd: int
    port: int
    restarts: int = 0
    stopping: bool = False
    reloading: bool = False
    worker: subprocess.Popen[bytes] | None = None
    crashes: deque[float] = field(default_factory=deque)
    #: Why the memory watch stopped the scoring server, until it is started again.
    over_memory: str | None = None
    watch: MemoryWatch | None = None

    def status(self, phase: str, **extra: Any) -> None:
        worker_pid = self.worker.pid if self.worker is not None else None
        layout.write_json(
            layout.status_file(self.folder),
            {
                "phase": phase,
                "port": self.port,
                "supervisor_pid": os.getpid(),
                "worker_pid": worker_pid,
                "restarts": self.restarts,
                "updated_at": time.time(),
                **extra,
            },
        )

    def on_signal(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGHUP:
            self.reloading = True
        else:
            self.stopping = True
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()

    def start_worker(self, python: str, env: dict[str, str]) -> int:
        read_end, write_end = os.pipe()
        env = {**env, ENV_LISTEN_FD: str(self.listen_fd), ENV_READY_FD: str(write_end)}
        self.worker = subprocess.Popen(
            [python, "-m", "runyard.serving.server", self.folder],
            env=env,
            cwd=layout.source_dir(self.folder),
            pass_fds=(self.listen_fd, write_end),
            stdin=subprocess.DEVNULL,
        )
        os.close(write_end)
        self.over_memory = None
        limit = self.definition.memory_gb
        if limit is not None and os.getsid(0) == os.getpid():
            self.watch = MemoryWatch(int(limit * GB), self.on_over_memory)
            self.watch.start()
        return read_end

    def on_over_memory(self, used: int) -> None:
        limit = self.definition.memory_gb
        self.over_memory = (
            f"The scoring server used {used / 2**20:.0f} MiB of memory, over the service's "
            f"memory_gb={limit:g}: it was stopped, as a container over its memory limit "
            "is. Deploy with a larger memory_gb, or make score.py use less."
        )
        print(self.over_memory, flush=True)

    def worker_exited(self) -> int:
        """Wait for the scoring server to exit; its exit status."""
        assert self.worker is not None
        code = self.worker.wait()
        if self.watch is not None:
            self.watch.stop()
            self.watch = None
        return code

    def run(self, python: str, env: dict[str, str]) -> int:
        crashed = False
        while not self.stopping:
            ready_fd = self.start_worker(python, env)
            self.status("restarting" if crashed else "starting")
            with os.fdopen(ready_fd, "rb") as ready:
                said = ready.read()  # EOF: ready was said, or the server exited first
            if said.startswith(b"ready"):
                self.status("healthy")
                code = self.worker_exited()
            else:
                code = self.worker_exited()
                if not (self.stopping or self.reloading):
                    error = (
                        {"message": self.over_memory}
                        if self.over_memory
                        else _init_error(self.folder, code)
                    )
                    self.status("failed", error=error)
                    return 1
            if self.stopping:
                break
            if self.reloading:
                self.reloading, crashed = False, False
                print("Reloading: the scoring server restarts.", flush=True)
                continue
            crashed = True
            now = time.monotonic()
            self.crashes.append(now)
            while self.crashes and self.crashes[0] < now - CRASH_WINDOW_S:
                self.crashes.popleft()
            if len(self.crashes) >= MAX_CRASHES:
                message = (
                    f"The scoring server crashed {len(self.crashes)} times within "
                    f"{CRASH_WINDOW_S:g} s (last exit status {code}); not restarting. See "
                    "get_logs(), fix score.py and update or redeploy the service."
                )
                if self.over_memory:
                    message += f" Last: {self.over_memory}"
                print(message, flush=True)
                self.status("failed", error={"message": message})
                return 1
            self.restarts += 1
            print(f"The scoring server exited with status {code}; restarting it.", flush=True)
            time.sleep(min(0.2 * len(self.crashes), 2.0))
        self.status("stopped")
        return 0


def _init_error(folder: str, code: int) -> dict[str, Any]:
    try:
        with open(layout.init_error_file(folder), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        lines = []
    last = lines[-1] if lines else f"the scoring server exited with status {code}"
    return {
        "message": f"init() of the entry script failed: {last}",
        "log_tail": "\n".join(lines[-ERROR_LINES:]),
    }


def _build(definition: ServiceDefinition, extras: tuple[str, ...]) -> Any:
    from runyard.environments import EnvironmentSpec, UvEnvironmentBuilder
    from runyard.environments.host import RunyardHost
    from runyard.settings import Settings

    settings = Settings.from_env()
    spec = EnvironmentSpec.from_dict(dict(definition.environment))
    builder = UvEnvironmentBuilder(
        cache_dir=settings.env_cache or None, host=RunyardHost(extras=extras)
    )
    return builder.build(spec, log=lambda line: print(line, flush=True))


def main(argv: list[str]) -> int:
    with contextlib.suppress(OSError):  # lead a session: the service is one process group
        os.setsid()
    folder = argv[1]
    with open(layout.definition_file(folder), encoding="utf-8") as fh:
        data = json.load(fh)
    definition = ServiceDefinition.from_dict(data)
    listen_fd = int(os.environ.pop(ENV_LISTEN_FD))
    port = int(os.environ.pop("RUNYARD_SERVICE_PORT", "0"))
    supervisor = _Supervisor(folder, definition, listen_fd, port)
    signal.signal(signal.SIGTERM, supervisor.on_signal)
    signal.signal(signal.SIGHUP, supervisor.on_signal)
    supervisor.status("building")
    print(f"Service {definition.name}: preparing its environment.", flush=True)
    try:
        built = _build(definition, tuple(data.get("runyard_extras") or ()))
    except Exception as exc:
        traceback.print_exc()
        supervisor.status(
            "failed", error={"message": f"The service's environment could not be built: {exc}"}
        )
        return 1
    env = built.process_env(os.environ)
    env.update(definition.environment_variables)
    models = layout.models_dir(folder)
    env["RUNYARD_MODEL_DIR"] = models
    env["AZUREML_MODEL_DIR"] = (
        os.path.join(models, definition.models[0].name, str(definition.models[0].version))
        if len(definition.models) == 1
        else models
    )
    env["PYTHONUNBUFFERED"] = "1"  # score.py's prints reach get_logs() as they happen
    if definition.cpu_cores is not None:
        cpus = pin_cpus(definition.name, definition.cpu_cores, env)
        print(f"cpu_cores={definition.cpu_cores:g}: runs on CPUs {sorted(cpus)}.", flush=True)
    if definition.memory_gb is not None:
        print(f"memory_gb={definition.memory_gb:g}: stopped past that much memory.", flush=True)
    print(f"Environment ready ({built.python}); starting the scoring server.", flush=True)
    return supervisor.run(built.python, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""A warm launcher for many executors on this machine: a fork server.

Every local run's executor is a fresh ``python -m runyard.node RUN_ID``, which spends about
half a second of CPU importing what it needs (the SQL store, fsspec, the node) before it
does anything. A HyperDrive sweep starts dozens of short children one after another, so
that start-up is paid again and again, and on a small machine it competes with the
children's own scripts for the CPUs.

The fork server is one long-lived process (``python -m runyard.compute.local.forkserver``)
that imports all that once, opens and closes the workspace's stores once, can build a run
environment once (``prepare``), and then forks a ready executor for each run it is asked
to start (``spawn``): the child is in a session of its own, its output goes to the run's
executor output file, its environment variables are the ones the backend chose, and it runs
exactly what ``python -m runyard.node RUN_ID`` runs. It reaps its children and reports each
exit, which lets whoever waits on them (the tuning controller) wake at once instead of
polling.

The server is single-threaded (forking is safe), answers one JSON line per request on its
stdout, and exits when its stdin closes; the executors it started go on without it. The
client, :class:`ForkServer`, falls back to an ordinary detached process when the server
cannot be used, so a broken server never stops a run from starting.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
import traceback
from typing import IO, TYPE_CHECKING, Any

from runyard.errors import BackendError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from runyard.environments.builder import BuiltEnvironment

#: The command a fork server stands in for; any other command is spawned as usual.
EXECUTOR_MODULE = "runyard.node"
#: How long a request may wait for its answer before the server is given up on. A
#: ``prepare`` builds an environment (a fresh one takes minutes), so it has its own.
REPLY_TIMEOUT_S = 30.0
PREPARE_TIMEOUT_S = 3600.0


# -- the client ------------------------------------------------------------------------------
class ForkServer:
    """A running fork server, from the side that asks it to start executors.

    Args:
        env: the server's environment variables (the workspace config in
            ``RUNYARD_WORKSPACE``, the settings): what it preloads is opened with them.
        log_path: where the server's own output goes (appended).

    Raises:
        BackendError: the server process could not be started.
    """

    def __init__(self, env: Mapping[str, str], log_path: str) -> None:
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in close())
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "runyard.compute.local.forkserver"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                env=dict(env),
                start_new_session=True,  # a Ctrl-C meant for its parent is not for it
            )
        except OSError as exc:
            self._log.close()
            raise BackendError(f"Could not start the fork server: {exc}") from exc
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._requests: IO[bytes] = self._proc.stdin
        self._replies: IO[bytes] = self._proc.stdout
        self._buffer = b""
        self._exits: list[int] = []
        self.broken: str | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._proc.pid

    def prepare(self, definition: Mapping[str, Any]) -> str:
        """Build (or take from the cache) the environment of run definition
        ``definition`` (``RunDefinition.to_dict()``) once, for every executor forked after;
        returns the server's one-line summary.

        Raises:
            BackendError: the server is broken, or the build failed (the executors then
                build the environment themselves, and fail as a run would).
        """
        reply = self._ask({"op": "prepare", "definition": dict(definition)}, PREPARE_TIMEOUT_S)
        return str(reply.get("prepared", ""))

    def spawn(self, command: list[str], env: Mapping[str, str], output: str) -> int:
        """Start ``command`` (``python -m runyard.node RUN_ID``) as a forked executor, its
        environment ``env`` and its output appended to ``output``; its pid.

        Raises:
            BackendError: ``command`` is not an executor's, or the server is broken.
        """
        if command[:3] != [sys.executable, "-m", EXECUTOR_MODULE] or len(command) != 4:
            raise BackendError(f"The fork server starts executors only, not {command!r}.")
        reply = self._ask(
            {"op": "spawn", "args": command[3:], "env": dict(env), "output": output},
            REPLY_TIMEOUT_S,
        )
        return int(reply["pid"])

    def wait(self, timeout: float) -> list[int]:
        """Wait up to ``timeout`` seconds for executors to end; the pids that ended (none
        after the timeout, or at once when some had ended already)."""
        if not self._exits and self.broken is None:
            self._read(time.monotonic() + max(0.0, timeout), until_reply=False)
        elif not self._exits:
            time.sleep(max(0.0, timeout))
        exits, self._exits = self._exits, []
        return exits

    def close(self) -> None:
        """Stop the server (its executors go on) and release its pipes."""
        with contextlib.suppress(OSError):
            self._requests.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            self._replies.close()
        self._log.close()

    # -- the wire --------------------------------------------------------------------------
    def _ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.broken is not None:
            raise BackendError(f"The fork server is not usable: {self.broken}")
        try:
            self._requests.write(json.dumps(request).encode() + b"\n")
            self._requests.flush()
        except OSError as exc:
            self.broken = f"it stopped taking requests ({exc})"
            raise BackendError(f"The fork server is not usable: {self.broken}") from exc
        reply = self._read(time.monotonic() + timeout, until_reply=True)
        if reply is None:
            if self.broken is None:
                self.broken = f"no answer within {timeout:.0f} s"
            raise BackendError(f"The fork server is not usable: {self.broken}")
        if "error" in reply:
            raise BackendError(f"The fork server could not do it: {reply['error']}")
        return reply

    def _read(self, deadline: float, *, until_reply: bool) -> dict[str, Any] | None:
        """Read lines until a reply (``until_reply``) or the first exit report, or until
        ``deadline``; exit reports are kept for :meth:`wait`."""
        fd = self._replies.fileno()
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                message = json.loads(line)
                if "exited" in message:
                    self._exits.append(int(message["exited"]))
                    continue
                return dict(message)
            if self._exits and not until_reply:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                self.broken = f"it exited (code {self._proc.poll()})"
                return None
            self._buffer += chunk


# -- the server ------------------------------------------------------------------------------
class _Server:
    """The server's loop: requests on ``requests``, one reply line each on ``replies``."""

    def __init__(
        self,
        requests: int,
        replies: IO[str],
        base_path: list[str] | None = None,
        start_up_env: Mapping[str, str] | None = None,
    ) -> None:
        self.requests = requests
        self.replies = replies
        #: This interpreter's own ``sys.path`` and start-up variables, for the scripts it
        #: starts warm (:mod:`runyard.node.warm_script`).
        self.base_path = list(base_path if base_path is not None else sys.path[1:])
        self.start_up_env = dict(start_up_env if start_up_env is not None else os.environ)
        self.prepared: dict[str, BuiltEnvironment] = {}
        self.children: dict[int, int | None] = {}  # pid -> pidfd (None: polled)
        self.pending = b""  # requests read but not handled yet

    def preload(self) -> None:
        """Import what an executor uses and open the workspace's stores once, so that each
        forked executor starts with all of it in memory."""
        import runyard.node.executor
        import runyard.node.liveness
        import runyard.node.outputs
        import runyard.node.prepare
        import runyard.node.script
        import runyard.node.script_process
        import runyard.node.slots
        import runyard.tracking.spool  # noqa: F401
        from runyard.resources import ENV_WORKSPACE, WorkspaceResources
        from runyard.settings import Settings

        if os.environ.get(ENV_WORKSPACE):
            resources = WorkspaceResources.from_json(os.environ[ENV_WORKSPACE], Settings.from_env())
            try:
                resources.store.get_experiment  # noqa: B018 (opens the store)
                resources.artifacts  # noqa: B018
            finally:
                resources.close()

    def serve(self) -> None:
        while True:
            watched = [self.requests] + [fd for fd in self.children.values() if fd is not None]
            polled = any(fd is None for fd in self.children.values())
            ready, _, _ = select.select(watched, [], [], 0.05 if polled else None)
            self.reap()
            if self.requests in ready:
                chunk = os.read(self.requests, 65536)
                if not chunk:
                    return
                self.pending += chunk
                while b"\n" in self.pending:
                    line, self.pending = self.pending.split(b"\n", 1)
                    self.reply(self.handle(line))

    def handle(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if request.get("op") == "prepare":
                return {"prepared": self.prepare(request["definition"])}
            if request.get("op") == "spawn":
                return {"pid": self.spawn(request["args"], request["env"], request["output"])}
            return {"error": f"unknown request {request.get('op')!r}"}
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}

    def reply(self, message: dict[str, Any]) -> None:
        self.replies.write(json.dumps(message) + "\n")
        self.replies.flush()

    def prepare(self, data: Mapping[str, Any]) -> str:
        from runyard.entities.definition import RunDefinition
        from runyard.node.prepare import build_environment, environment_key
        from runyard.resources import ENV_WORKSPACE, WorkspaceResources
        from runyard.settings import Settings

        definition = RunDefinition.from_dict(dict(data))
        lines: list[str] = []
        resources = WorkspaceResources.from_json(os.environ[ENV_WORKSPACE], Settings.from_env())
        try:
            built = build_environment(resources, definition, lines.append)
        finally:
            resources.close()
        self.prepared[environment_key(definition)] = built
        return lines[-1] if lines else "prepared"

    def spawn(self, args: list[str], env: Mapping[str, str], output: str) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the executor
            _become_executor(  # never returns
                args, env, output, self.prepared, self.base_path, self.start_up_env
            )
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):  # Linux 5.3+ only
            pidfd = os.pidfd_open(pid)
        self.children[pid] = pidfd
        return pid

    def reap(self) -> None:
        for pid, pidfd in list(self.children.items()):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                if pidfd is not None:
                    os.close(pidfd)
                del self.children[pid]
                self.reply({"exited": pid})


def _become_executor(
    args: list[str],
    env: Mapping[str, str],
    output: str,
    prepared: Mapping[str, BuiltEnvironment],
    base_path: list[str],
    start_up_env: Mapping[str, str],
) -> None:
    """In the forked child: detach, take the run's output and environment, carry the run
    as ``python -m runyard.node`` would, and exit. When the run's environment is this
    interpreter, a child that can become its script without a new interpreter is forked
    first, while this process has one thread (:mod:`runyard.node.warm_script`)."""
    code = 1
    warm = None
    try:
        os.setsid()
        out = os.open(output, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, 65536)  # the server's pipes and its children's pidfds
        from runyard.node.warm_script import WarmScript, same_interpreter

        if any(same_interpreter(built.python) for built in prepared.values()):
            try:
                warm = WarmScript.fork(base_path, start_up_env)
            except OSError:
                traceback.print_exc()  # the script starts as a new interpreter
        os.environ.clear()
        os.environ.update(env)
        sys.argv = [sys.executable, "-m", EXECUTOR_MODULE, *args]
        from runyard.node.executor import main

        code = main(list(args), prepared_environments=prepared, warm_script=warm)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            if warm is not None:
                warm.close()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main() -> int:
    """Entry point: ``python -m runyard.compute.local.forkserver`` (requests on stdin)."""
    requests = os.dup(0)
    replies = os.fdopen(os.dup(1), "w")
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.dup2(2, 1)  # the server's own prints go to its log, never into the replies
    # What a fresh interpreter's sys.path holds after the script's folder and PYTHONPATH:
    # this one's, less the folder it was started from and its PYTHONPATH.
    own = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    base_path = [p for p in sys.path[1:] if os.path.abspath(p) not in own]
    server = _Server(requests, replies, base_path, dict(os.environ))
    try:
        server.preload()
    except Exception:
        traceback.print_exc()  # the executors import what they need themselves
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())

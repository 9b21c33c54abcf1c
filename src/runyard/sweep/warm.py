"""Starting a sweep's children warm on local compute.

A sweep on local compute starts its children's executors from one fork server
(:mod:`runyard.compute.local.forkserver`) instead of one fresh interpreter each: the
imports and the store's first opening are paid once per sweep, the trial environment is
built (or found in the cache) once per sweep, and the controller wakes the moment a child's
executor ends instead of on its next poll. When the server cannot be used, children start
as ordinary detached executors, with one line in the tuning log that says why.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from runyard.compute.local.backend import spawn_detached
from runyard.compute.local.forkserver import ForkServer
from runyard.errors import BackendError
from runyard.node import local_record
from runyard.resources import ENV_RUN_ID, ENV_WORKSPACE

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources

FORKSERVER_OUT = "forkserver.out"
_NOT_INHERITED = ("RUNYARD_LOCAL_SLOTS", "RUNYARD_EXECUTOR_OUT", ENV_RUN_ID)


class WarmStarter:
    """The fork server of one sweep, with the fallback to a cold start.

    Args:
        resources: the workspace.
        parent_id: the sweep's run (its scratch folder holds the server's output).
        definition: the trial definition (``RunDefinition.to_dict()``) whose environment
            is prepared once.
        say: a line for the tuning log.
    """

    def __init__(
        self,
        resources: WorkspaceResources,
        parent_id: str,
        definition: Mapping[str, Any],
        say: Callable[[str], None],
    ) -> None:
        self._say = say
        self._server: ForkServer | None = None
        folder = local_record.run_folder(resources.settings.scratch_dir, parent_id)
        os.makedirs(folder, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env.update(resources.settings.to_env())
        env[ENV_WORKSPACE] = resources.config.to_json()
        started = time.monotonic()
        try:
            self._server = ForkServer(env, os.path.join(folder, FORKSERVER_OUT))
            summary = self._server.prepare(definition)
        except BackendError as exc:
            self._give_up(exc)
            return
        say(
            f"Children start from a warm launcher (pid {self._server.pid}), their environment "
            f"prepared once in {time.monotonic() - started:.2f} s: {summary}"
        )

    def spawn(self, command: list[str], env: dict[str, str], output: str) -> int:
        """Start an executor: forked from the server, or cold when it cannot be used."""
        if self._server is not None:
            try:
                return self._server.spawn(command, env, output)
            except BackendError as exc:
                self._give_up(exc)
        return spawn_detached(command, env, output)

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; less when one of the children's executors ends."""
        if self._server is None:
            time.sleep(timeout)
        else:
            self._server.wait(timeout)

    def close(self) -> None:
        """Stop the server (the children's executors go on)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def _give_up(self, exc: BaseException) -> None:
        self._say(f"Children start cold (one new process each): {exc}")
        if self._server is not None:
            self._server.close()
            self._server = None

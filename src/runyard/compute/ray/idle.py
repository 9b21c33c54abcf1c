"""Stopping an idle local Ray head: ``idle_seconds_before_scaledown`` for the head itself.

    python -m runyard.compute.ray.idle TARGET PGID      (RUNYARD_WORKSPACE set)

A head Runyard starts for a target (local or simulated, not attached) holds a gigabyte or
two of memory while it waits. :func:`start_idle_watch` starts this small process beside it
(in its own session, so that it outlives the process that created the target). It looks at
the target's runs every few seconds; once none has been active for the target's
``idle_seconds_before_scaledown``, it stops the head's process group and records when
(``config["headStoppedIdleAt"]``). The next submit starts the head again
(:func:`runyard.compute.ray.provision.ensure_head`), with a new watch.

The check and the stop happen under the head's file lock, which ``ensure_head`` takes too:
a run submitted meanwhile is either seen (the head stays) or finds the head stopped and
starts it again. The watch ends when the head it watches is gone, replaced or deleted.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from filelock import FileLock

from runyard.compute.ray.settings import ATTACHED, ClusterSettings
from runyard.entities.run import TERMINAL_STATUSES, RunStatus
from runyard.errors import BackendError, NotFound
from runyard.node import processes

if TYPE_CHECKING:
    from runyard.compute.ray.head import HeadInfo
    from runyard.resources import WorkspaceResources

#: The config key recording when the watch stopped the head (seconds since the epoch).
STOPPED_IDLE_AT = "headStoppedIdleAt"
#: Longest pause between two looks at the target's runs.
MAX_POLL_S = 10.0
_ACTIVE = [s for s in RunStatus if s not in TERMINAL_STATUSES]
_LOG_ENV = "RUNYARD_IDLE_LOG"
_SPAWN = 'exec "$@" </dev/null >>"$RUNYARD_IDLE_LOG" 2>&1 &'


def start_idle_watch(resources: WorkspaceResources, target: str, head: HeadInfo) -> None:
    """Start the watch of ``head``: a detached process (through ``sh ... &``, so that it
    is nobody's child here), its output in ``idle.log`` in the head's folder.

    Raises:
        BackendError: the watch could not be started.
    """
    env = dict(os.environ)
    env["RUNYARD_WORKSPACE"] = resources.config.to_json()
    env.update(resources.settings.to_env())
    env[_LOG_ENV] = os.path.join(head.folder, "idle.log")
    command = [sys.executable, "-m", "runyard.compute.ray.idle", target, str(head.pgid)]
    try:
        subprocess.run(
            ["/bin/sh", "-c", _SPAWN, "sh", *command],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            start_new_session=True,  # Ctrl-C in the creator's terminal must not reach it
            check=True,
            timeout=30,
            cwd=head.folder,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackendError(f"Could not start the idle watch of the Ray head: {exc}") from exc


def poll_seconds(idle_seconds: float) -> float:
    """How often to look: a tenth of the idle time, between 0.5 and MAX_POLL_S seconds."""
    return min(MAX_POLL_S, max(0.5, idle_seconds / 10))


class IdleWatch:
    """Stops the head (process group ``pgid``) of ``target`` after its idle time.

    Args:
        resources: the workspace of the target.
        target: the target's name.
        pgid: the process group of the head this watch is for.
    """

    def __init__(self, resources: WorkspaceResources, target: str, pgid: int) -> None:
        self.resources = resources
        self.target = target
        self.pgid = pgid

    def say(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        print(f"[{stamp}] runyard idle watch {self.target}: {message}", flush=True)

    def _watched(self) -> ClusterSettings | None:
        """The target's settings while its head is still the one watched, else None."""
        try:
            record = self.resources.store.get_compute_target(self.target)
        except NotFound:
            return None
        settings = ClusterSettings.from_config(record.name, record.config)
        head = settings.head
        if settings.mode == ATTACHED or head is None or head.pgid != self.pgid:
            return None
        if not processes.group_alive(head.pgid):
            return None
        return settings

    def _busy(self) -> bool:
        runs = self.resources.store.list_runs(statuses=_ACTIVE)
        return any(r.target == self.target for r in runs)

    def run(self) -> int:
        """Watch until the head is stopped here, gone, replaced or deleted."""
        settings = self._watched()
        if settings is None:
            return 0
        idle = settings.idle_seconds
        self.say(f"stops the Ray head (group {self.pgid}) after {idle:g} s without runs")
        idle_since = time.monotonic()
        while True:
            time.sleep(poll_seconds(idle))
            try:
                settings = self._watched()
                if settings is None:
                    self.say("the head is gone, replaced or deleted: nothing to watch")
                    return 0
                idle = settings.idle_seconds
                if self._busy():
                    idle_since = time.monotonic()
                    continue
                if time.monotonic() - idle_since < idle:
                    continue
                assert settings.head is not None
                with FileLock(f"{settings.head.folder.rstrip(os.sep)}.lock"):
                    if self._watched() is None:
                        return 0
                    if self._busy():  # a run came while we waited for the lock
                        idle_since = time.monotonic()
                        continue
                    self._stop(settings.head)
            except Exception as exc:  # a busy store, a moment of network: look again soon
                self.say(f"{type(exc).__name__}: {exc}")
                continue
            self.say(f"stopped the Ray head after {idle:g} s without runs")
            return 0

    def _stop(self, head: HeadInfo) -> None:
        from runyard.compute.ray import head as heads

        # Recorded first: get_status reads it only once the head's processes are gone.
        store = self.resources.store
        record = store.get_compute_target(self.target)
        record.config = {**record.config, STOPPED_IDLE_AT: time.time()}
        store.save_compute_target(record, overwrite=True)
        heads.stop_local_head(head)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m runyard.compute.ray.idle TARGET PGID``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not os.environ.get("RUNYARD_WORKSPACE"):
        print(
            "usage: RUNYARD_WORKSPACE=<workspace JSON> python -m runyard.compute.ray.idle "
            "TARGET PGID",
            file=sys.stderr,
        )
        return 2
    from runyard.resources import WorkspaceResources
    from runyard.settings import Settings

    resources = WorkspaceResources.from_json(os.environ["RUNYARD_WORKSPACE"], Settings.from_env())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            return IdleWatch(resources, args[0], int(args[1])).run()
        return 0
    finally:
        resources.close()


if __name__ == "__main__":
    sys.exit(main())

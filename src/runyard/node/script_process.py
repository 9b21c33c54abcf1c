"""The training script as a process: started in its own process group, its output streamed,
its ``./logs`` mirrored, stopped as a whole tree, including what it started outside its
group (this process adopts the script's orphans: see
:func:`runyard.node.processes.adopt_orphans`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runyard.node import processes
from runyard.node.streaming import FolderMirror, LogSink, OutputPump

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.node.warm_script import ForkedScript, WarmScript

LOGS_SYNC_SECONDS = 2.0
CANCEL_GRACE_SECONDS = 5.0


@dataclass
class ScriptOutcome:
    """How the script ended.

    Attributes:
        exit_code: its exit status (negative: killed by that signal).
        stopped: it was stopped because ``stop`` was set.
        timed_out: it was stopped because it ran past its maximum duration.
        stderr_tail: the last lines it wrote to stderr.
        seconds: how long it ran.
    """

    exit_code: int
    stopped: bool
    timed_out: bool
    stderr_tail: str
    seconds: float


class ScriptProcess:
    """Runs ``command`` in ``workdir`` as the leader of a new process group.

    Args:
        command: the interpreter, the script and its arguments.
        workdir: the working directory (the restored snapshot).
        env: the script's environment variables.
        driver: where stdout and stderr go, as they come.
        artifacts: the artifact store (for ``./logs``).
        logs_prefix: the artifact folder ``./logs`` is mirrored to.
        warm: a forked child of the executor's interpreter to run the script in, instead of
            a new interpreter (the caller checked it can: ``WarmScript.unusable``).
    """

    def __init__(
        self,
        command: Sequence[str],
        workdir: str,
        env: dict[str, str],
        driver: LogSink,
        artifacts: ArtifactStore,
        logs_prefix: str,
        warm: WarmScript | None = None,
    ) -> None:
        self._warm = warm
        self._command = list(command)
        self._workdir = workdir
        self._env = env
        self._driver = driver
        self._mirror = FolderMirror(artifacts, os.path.join(workdir, "logs"), logs_prefix)
        self._proc: subprocess.Popen[bytes] | ForkedScript | None = None
        self._adopting = False
        self._own_children: set[int] = set()
        self._started = 0.0

    @property
    def mirror_errors(self) -> list[str]:
        return self._mirror.errors

    def start(self) -> dict[str, object]:
        """Start the script; returns what identifies it (pid, group, start time).

        Raises:
            OSError: the interpreter could not be started.
        """
        self._adopting = processes.adopt_orphans()
        self._own_children = processes.children(os.getpid())
        self._started = time.monotonic()  # its life counts from here, not from wait()
        if self._warm is not None:
            self._proc = self._warm.start(self._command, self._workdir, self._env)
            pid = self._proc.pid
            return {"pid": pid, "pgid": pid, "pidStart": processes.process_start_time(pid)}
        self._proc = subprocess.Popen(
            self._command,
            cwd=self._workdir,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own group: cancel stops the script and its children
        )
        pid = self._proc.pid
        return {"pid": pid, "pgid": pid, "pidStart": processes.process_start_time(pid)}

    def wait(
        self, stop: threading.Event, max_seconds: float | None, on_tick: Callable[[], None]
    ) -> ScriptOutcome:
        """Stream the script's output until it ends, is stopped, or runs too long."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        output = OutputPump(proc.stdout, proc.stderr, self._driver).start()
        started = self._started
        next_sync = started + LOGS_SYNC_SECONDS
        stopped = timed_out = False
        while proc.poll() is None:
            now = time.monotonic()
            if stop.is_set():
                stopped = True
                processes.kill_process_group(proc.pid, CANCEL_GRACE_SECONDS)
                break
            if max_seconds is not None and now - started > max_seconds:
                timed_out = True
                processes.kill_process_group(proc.pid, CANCEL_GRACE_SECONDS)
                break
            if now >= next_sync:
                self._mirror.sync()
                next_sync = now + LOGS_SYNC_SECONDS
            on_tick()
            # Waiting on the process, not on a clock, notices its end at once.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
        code = proc.wait()
        # Children left behind by the script end with it: the run is over.
        if processes.group_alive(proc.pid):
            processes.kill_process_group(proc.pid, grace_seconds=2.0)
        self._stop_strays()
        output.join(timeout=10)
        self._mirror.sync()
        return ScriptOutcome(
            exit_code=code,
            stopped=stopped,
            timed_out=timed_out,
            stderr_tail=output.tail_text(),
            seconds=time.monotonic() - started,
        )

    def kill(self) -> None:
        """Stop the script's whole tree now (used when the executor itself fails)."""
        if self._proc is not None and self._proc.poll() is None:
            processes.kill_process_group(self._proc.pid, grace_seconds=2.0)
        self._stop_strays()

    def _stop_strays(self) -> None:
        """Stop what the script started outside its process group and left running (a
        daemon, a server in a session of its own), saying so in the run's log."""
        if not self._adopting:
            return
        keep = set(self._own_children)
        if self._proc is not None:
            keep.add(self._proc.pid)  # reaped by its Popen, never behind its back
        strays = processes.stray_processes(keep=keep)
        if strays:
            self._driver.line(
                f"runyard: stopping {len(strays)} process(es) the script left running "
                f"outside its process group (pids {', '.join(map(str, strays[:10]))})"
            )
            processes.stop_processes(strays, grace_seconds=2.0)
        processes.reap_adopted(keep)

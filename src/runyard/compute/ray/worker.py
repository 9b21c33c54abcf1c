"""A non-chief process of a distributed run: the same script, on its own node, in its own
working folder, with its rank in the environment.

    python -m runyard.compute.ray.worker RUN_ID RANK     (started by the gang, see gang.py)

The chief (rank 0) is the ordinary executor: it moves the run through its phases and
uploads ``./outputs``. A worker only runs the script: it restores the snapshot, takes the
environment from the cache (or builds it), resolves the data references, and streams its
messages and the script's output to ``runyard-logs/worker_<rank>.txt`` (its ``./logs`` to
``logs/worker_<rank>/``). It stops its script when the run ends or is canceled, or on
SIGTERM, and exits with the script's exit code.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING

from runyard.artifacts.layout import worker_log_name
from runyard.entities.run import RunStatus
from runyard.node import processes

if TYPE_CHECKING:
    from runyard.resources import WorkspaceResources

#: Exit code of a worker that could not start its script.
SETUP_FAILED = 3
POLL_S = 1.0


class Worker:
    """Runs the script of ``run_id`` as process ``rank`` of its distributed job."""

    def __init__(self, resources: WorkspaceResources, run_id: str, rank: int) -> None:
        from runyard.artifacts.layout import run_files_prefix
        from runyard.node.streaming import LogSink

        self.resources = resources
        self.run_id = run_id
        self.rank = rank
        self.prefix = run_files_prefix(run_id)
        echo = getattr(sys.stdout, "buffer", None)
        self.log = LogSink(resources.artifacts, f"{self.prefix}/{worker_log_name(rank)}", echo=echo)
        self.folder = os.path.join(resources.settings.scratch_dir, f"{run_id}.worker-{rank}")
        self.stop = threading.Event()
        self.done = threading.Event()

    def say(self, message: str) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")[:-6]
        for line in message.splitlines() or [""]:
            self.log.line(f"[{stamp}] worker {self.rank}: {line}")

    def _watch(self) -> None:
        """Stop the script when the run ends or a cancel is asked for."""
        store = self.resources.store
        while not self.done.wait(POLL_S):
            try:
                record = store.get_run(self.run_id)
            except Exception:  # the store may be busy for a moment; look again soon
                continue
            if record.is_terminal or record.status == RunStatus.CANCEL_REQUESTED:
                self.say(f"The run is {record.status.value}: stopping the script")
                self.stop.set()
                return

    def run(self) -> int:
        """Run the script; returns its exit code (SETUP_FAILED when it could not start)."""
        self.log.start()
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        watcher = threading.Thread(target=self._watch, name="runyard-worker-watch", daemon=True)
        watcher.start()
        try:
            return self._run()
        except Exception as exc:
            self.say("".join(traceback.format_exception(exc)).rstrip())
            return SETUP_FAILED
        finally:
            self.done.set()
            shutil.rmtree(self.folder, ignore_errors=True)
            self.log.close()

    def _run(self) -> int:
        from runyard.entities.definition import RunDefinition
        from runyard.node.prepare import build_environment, restore, script_launch
        from runyard.node.script_process import ScriptProcess

        record = self.resources.store.get_run(self.run_id)
        definition = RunDefinition.from_dict(record.details.get("runDefinition"))
        self.say(f"Started on {processes.hostname()} (pid {os.getpid()}) for {self.run_id}")
        workdir = os.path.join(self.folder, "wd")
        restore(self.resources, definition, workdir, self.say)
        built = build_environment(self.resources, definition, self.say)
        prepared = script_launch(
            self.resources, self.run_id, definition, built, workdir, dict(os.environ), self.say
        )
        command, env, warnings = prepared.command, prepared.env, prepared.warnings
        for warning in warnings:
            self.say(f"WARNING: {warning}")
        if self.stop.is_set():
            return SETUP_FAILED
        script = ScriptProcess(
            command,
            workdir,
            env,
            self.log,
            self.resources.artifacts,
            f"{self.prefix}/logs/worker_{self.rank}",
        )
        info = script.start()
        self.say(f"Script started (pid {info['pid']}): {definition.script}")
        outcome = script.wait(self.stop, definition.max_run_duration_seconds, lambda: None)
        self.say(f"Script ended with exit code {outcome.exit_code} after {outcome.seconds:.2f} s")
        return outcome.exit_code


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m runyard.compute.ray.worker RUN_ID RANK``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit() or not os.environ.get("RUNYARD_WORKSPACE"):
        print(
            "usage: RUNYARD_WORKSPACE=<workspace JSON> python -m runyard.compute.ray.worker "
            "RUN_ID RANK",
            file=sys.stderr,
        )
        return 2
    from runyard.resources import WorkspaceResources

    resources = WorkspaceResources.from_json(os.environ["RUNYARD_WORKSPACE"])
    try:
        return Worker(resources, args[0], int(args[1])).run()
    finally:
        resources.close()


if __name__ == "__main__":
    sys.exit(main())

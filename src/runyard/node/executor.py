"""The executor: carries one submitted run through its life, the same program on every backend.

    python -m runyard.node RUN_ID        (workspace config as JSON in RUNYARD_WORKSPACE)

Queued (waiting for a slot, when the backend asks for one) -> Preparing (snapshot restored
into a fresh working folder, environment built or taken from cache, its packages recorded)
-> Starting (data references resolved to local paths) -> Running (the script, its output
streamed to ``runyard-logs/driver.txt`` and its ``./logs`` to ``logs/``, a heartbeat, a watch
for CancelRequested) -> Finalizing (``./outputs`` uploaded) -> Completed, Failed or
Canceled. Metric values the script could not store (its environment could not reach the
store) are kept in a spool and stored by the executor once the script ends; a run whose
values cannot be stored even then ends Failed (``MetricsLost``), never silently Completed.
The executor's own messages go to ``runyard-logs/executor.txt``. Whatever goes wrong, the
run ends in a terminal status with the reason in its error.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runyard.artifacts.layout import DRIVER_LOG, EXECUTOR_LOG, run_files_prefix
from runyard.entities.definition import RunDefinition
from runyard.entities.run import RunErrorCode, RunRecord, RunStatus
from runyard.entities.run_details import CANCEL_REASON, EXECUTOR, SCRIPT, ExecutorInfo
from runyard.errors import EnvironmentBuildError, InvalidState, RunyardError
from runyard.node import local_record, processes
from runyard.node.streaming import LogSink
from runyard.resources import ENV_METRIC_SPOOL, ENV_TOKEN, ENV_WORKSPACE, WorkspaceResources
from runyard.tracking.spool import SpoolReplay

if TYPE_CHECKING:
    from runyard.environments.builder import BuiltEnvironment
    from runyard.node.script_process import ScriptProcess
    from runyard.node.slots import SlotWaiter
    from runyard.node.warm_script import WarmScript

_EXECUTOR_VARS = ("RUNYARD_LOCAL_SLOTS", "RUNYARD_EXECUTOR_OUT")
#: The file in the run's scratch folder where the script keeps metric values it could not
#: store (``runyard.tracking.spool``).
METRIC_SPOOL = "metrics-spool.jsonl"


class _Stop(Exception):
    """The run was canceled (or the executor told to stop) between phases."""


class Executor:
    """Carries the run ``run_id`` of a workspace from Queued to a terminal status.

    Args:
        resources: the workspace's stores and settings.
        run_id: the run.
        environ: the variables the executor was started with (the script inherits them,
            less the executor's own).
        backend: the compute backend that placed it, when the launch did not record it.
        prepared_environments: environments built already by whoever started this
            executor (a fork server), by :func:`runyard.node.prepare.environment_key`: a
            run whose environment is among them uses it without building.
        warm_script: a forked child of this interpreter that can become the script
            without a new interpreter (:mod:`runyard.node.warm_script`), when the script's
            command allows it and ``RUNYARD_WARM_SCRIPTS`` is on; closed when not used.
    """

    def __init__(
        self,
        resources: WorkspaceResources,
        run_id: str,
        environ: dict[str, str] | None = None,
        backend: str | None = None,
        prepared_environments: Mapping[str, BuiltEnvironment] | None = None,
        warm_script: WarmScript | None = None,
    ) -> None:
        self.resources = resources
        self.warm_script = warm_script
        self.prepared_environments = dict(prepared_environments or {})
        self.backend = backend
        self.run_id = run_id
        self.environ = dict(os.environ if environ is None else environ)
        self.store = resources.store
        self.artifacts = resources.artifacts
        self.settings = resources.settings
        prefix = run_files_prefix(run_id)
        self.files_prefix = prefix
        echo = getattr(sys.stdout, "buffer", None)
        self.log = LogSink(self.artifacts, f"{prefix}/{EXECUTOR_LOG}", echo=echo)
        self.run_dir = os.path.join(self.settings.scratch_dir, run_id)
        os.makedirs(self.run_dir, exist_ok=True)
        self.driver = LogSink(
            self.artifacts,
            f"{prefix}/{DRIVER_LOG}",
            spool=os.path.join(self.run_dir, "driver.txt"),
        )
        self.stop = threading.Event()
        self.terminated = False  # SIGTERM (from the backend's cancel, or the OS)
        self.status = RunStatus.QUEUED
        self.done = threading.Event()
        self.workdir: str | None = None
        self.script: ScriptProcess | None = None
        self.slot: SlotWaiter | None = None
        self.warnings: list[str] = []
        self.sweep_local = False
        # Where the script keeps the metric values it could not store (stored from here).
        self.metric_spool = os.path.join(self.run_dir, METRIC_SPOOL)
        self.metrics_lost: SpoolReplay | None = None

    # -- messages and status ----------------------------------------------------------
    def say(self, message: str) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")[:-6]
        for line in message.splitlines() or [""]:
            self.log.line(f"[{stamp}] {line}")

    def _move(self, status: RunStatus) -> None:
        """Move the run to the next phase, or raise _Stop when it was canceled meanwhile."""
        if self.stop.is_set():
            raise _Stop
        # What the last phase said reaches the log before the store shows the new phase,
        # so that someone following both prints them in order.
        self.log.flush()
        try:
            self.store.set_run_status(self.run_id, status, expected=[self.status])
        except InvalidState:
            self.status = self.store.get_run(self.run_id).status
            raise _Stop from None
        self.status = status
        self.say(f"Status: {status.value}")
        self.log.flush()  # a follower sees each phase as it starts

    def _end(self, status: RunStatus, error: dict[str, Any] | None = None) -> None:
        self.log.flush()
        try:
            record = self.store.set_run_status(self.run_id, status, error=error)
            self.status = record.status
        except InvalidState:
            self.status = self.store.get_run(self.run_id).status
            self.say(f"The run is {self.status.value} already; not marked {status.value}.")
            return
        # The error's first line: the rest (a script's stderr) is in the driver log already.
        first = str(error.get("message") or "").split("\n", 1)[0] if error else ""
        self.say(f"Status: {status.value}" + (f": {first}" if first else ""))

    # -- the heartbeat ----------------------------------------------------------------
    def _beat(self) -> None:
        """Beat every interval; every half second, look for a cancel request."""
        last = 0.0
        while not self.done.wait(min(0.5, self.settings.heartbeat_s)):
            try:
                now = time.time()
                if now - last >= self.settings.heartbeat_s:
                    record = self.store.update_run(self.run_id, heartbeat_at=now)
                    last = now
                else:
                    record = self.store.get_run(self.run_id)
                if record.status == RunStatus.CANCEL_REQUESTED or record.is_terminal:
                    self.stop.set()
            except Exception as exc:  # the store may be busy for a moment; beat again soon
                self.say(f"Heartbeat failed: {type(exc).__name__}: {exc}")

    def _on_sigterm(self, _signum: int, _frame: Any) -> None:
        self.terminated = True
        self.stop.set()

    # -- the run ----------------------------------------------------------------------
    def run(self) -> int:
        """Carry the run; returns the process exit code (0 unless the run could not be
        read at all)."""
        self.log.start()
        with contextlib.suppress(ValueError):  # not the main thread (tests): no handler
            signal.signal(signal.SIGTERM, self._on_sigterm)
        record = self.store.get_run(self.run_id)
        if record.is_terminal:
            self.say(f"Run {self.run_id} is {record.status.value} already; nothing to do.")
            self.log.close()
            return 0
        self.status = record.status
        launched = ExecutorInfo.from_dict(record.details.get(EXECUTOR))
        now = time.time()
        executor = ExecutorInfo(
            host=processes.hostname(),
            pid=os.getpid(),
            pid_start=processes.process_start_time(os.getpid()),
            backend=self.backend or launched.backend,
            launched_at=launched.launched_at or now,
            started_at=now,
            output=launched.output,
            driver_spool=self.driver.spool,
        )
        self.store.update_run(self.run_id, details={EXECUTOR: executor.to_dict()}, heartbeat_at=now)
        local_record.update(
            self.settings.scratch_dir,
            self.run_id,
            executor_pid=executor.pid,
            executor_start=executor.pid_start,
            driver_spool=self.driver.spool,
        )
        beat = threading.Thread(target=self._beat, name="runyard-heartbeat", daemon=True)
        beat.start()
        try:
            self._carry(record)
        except _Stop:
            self._finish_stopped()
        except BaseException as exc:
            self._crashed(exc)
        finally:
            if self.warm_script is not None:
                self.warm_script.close()  # unused: it exits
            self.done.set()
            beat.join(timeout=10)
            if self.slot is not None:
                self.slot.release()
            self.driver.close()
            self.log.close()
            self._clean_up(
                stored_all=not self.driver.errors
                and not self.log.errors
                and self.metrics_lost is None  # the spool stays for the user
            )
        return 0

    def _carry(self, record: RunRecord) -> None:
        definition = RunDefinition.from_dict(record.details.get("runDefinition"))
        self.say(
            f"Executor started on {processes.hostname()} (pid {os.getpid()}) for {self.run_id}"
        )
        # Swept once the script runs: not on the way to its first line.
        self.sweep_local = ExecutorInfo.from_dict(record.details.get(EXECUTOR)).backend == "local"
        self._wait_for_slot(record)
        self._move(RunStatus.PREPARING)
        workdir = self._restore(definition)
        built = self._build_environment(definition)
        self._move(RunStatus.STARTING)
        command, env = self._command(definition, built, workdir)
        self._move(RunStatus.RUNNING)
        self._run_script(definition, command, env, workdir)

    def _sweep_target(self, target: str) -> None:
        """On a local target no daemon watches the runs (a cluster's dispatcher does): each
        executor, as it starts, ends its target's runs whose executor died."""
        from runyard.node.liveness import sweep

        try:
            for ended in sweep(self.resources, target=target):
                self.say(f"Swept {ended.run_id}: its executor was gone ({ended.status.value})")
        except Exception as exc:  # sweeping is a courtesy: the run goes on regardless
            self.say(f"Could not sweep target {target!r}: {type(exc).__name__}: {exc}")

    def _wait_for_slot(self, record: RunRecord) -> None:
        raw = self.environ.get("RUNYARD_LOCAL_SLOTS")  # slots.SLOTS_ENV; unset: no limit
        if not raw:
            return
        from runyard.node import slots

        max_runs, folder = slots.decode(raw)
        target = record.target or "local"
        self.slot = slots.SlotWaiter(
            self.store,
            self.run_id,
            target,
            max_runs,
            folder,
            self.settings.liveness_timeout_s,
            scratch_dir=self.settings.scratch_dir,
        )
        if not self.slot.wait(
            self.stop.is_set,
            lambda: self.say(f"Queued: waiting for one of the {max_runs} slots of {target!r}"),
        ):
            raise _Stop

    def _restore(self, definition: RunDefinition) -> str:
        from runyard.node.prepare import restore

        workdir = os.path.join(self.run_dir, "wd")
        self.workdir = workdir
        restore(self.resources, definition, workdir, self.say)
        return workdir

    def _build_environment(self, definition: RunDefinition) -> BuiltEnvironment:
        from runyard.node.prepare import (
            ENVIRONMENT_FILE,
            build_environment,
            environment_file_text,
            environment_key,
        )

        built = self.prepared_environments.get(environment_key(definition))
        if built is not None:
            self.say(
                f"Environment {definition.environment.name or '(unnamed)'}: prepared by the "
                f"launcher ({'cache hit' if built.cache_hit else 'built'}, "
                f"{len(built.packages)} packages): {built.python}"
            )
        else:
            built = build_environment(self.resources, definition, self.say)
        self.artifacts.put_bytes(
            environment_file_text(built).encode(), f"{self.files_prefix}/{ENVIRONMENT_FILE}"
        )
        summary: dict[str, Any] = {
            "name": definition.environment.name,
            "version": definition.environment.version,
        }
        summary.update(built.to_dict())
        self.store.update_run(self.run_id, details={"environment": summary})
        return built

    def _command(
        self, definition: RunDefinition, built: BuiltEnvironment, workdir: str
    ) -> tuple[list[str], dict[str, str]]:
        from runyard.node.prepare import script_launch

        base = {k: v for k, v in self.environ.items() if k not in _EXECUTOR_VARS}
        prepared = script_launch(
            self.resources, self.run_id, definition, built, workdir, base, self.say
        )
        self.warnings.extend(prepared.warnings)
        prepared.env[ENV_METRIC_SPOOL] = self.metric_spool
        return prepared.command, prepared.env

    def _run_script(
        self, definition: RunDefinition, command: list[str], env: dict[str, str], workdir: str
    ) -> None:
        from runyard.node.script_process import ScriptProcess

        self.driver.start()
        self.artifacts.append_bytes(b"", self.driver.name)  # the log exists from the start
        for warning in self.warnings:
            self.driver.line(f"WARNING: {warning}")
            self.say(f"WARNING: {warning}")
        if self.warnings:
            self.store.update_run(self.run_id, details={"warnings": list(self.warnings)})
        warm = self.warm_script
        if warm is not None:
            why = (
                warm.unusable(command, env)
                if self.settings.warm_scripts
                else "RUNYARD_WARM_SCRIPTS=0"
            )
            if why is not None:
                self.say(f"The script starts in a new interpreter: {why}")
                warm = None
        self.script = ScriptProcess(
            command,
            workdir,
            env,
            self.driver,
            self.artifacts,
            f"{self.files_prefix}/logs",
            warm=warm,
        )
        info = self.script.start()
        info["command"] = command[1:]
        info["warm"] = warm is not None
        # What the executor cost until the script started (imports included): CPU time,
        # which machine load does not inflate.
        info["executorCpuSeconds"] = round(time.process_time(), 4)
        local_record.update(
            self.settings.scratch_dir,
            self.run_id,
            script_pgid=info.get("pgid"),
            script_start=info.get("pidStart"),
        )
        self.store.update_run(self.run_id, details={SCRIPT: info})
        how = " from a warm interpreter" if warm is not None else ""
        self.say(f"Script started{how} (pid {info['pid']}): {definition.script}")
        if self.sweep_local:
            self._sweep_target(definition.target)
        limit = definition.max_run_duration_seconds
        outcome = self.script.wait(self.stop, limit, lambda: None)
        self.driver.flush()
        self.say(f"Script ended with exit code {outcome.exit_code} after {outcome.seconds:.2f} s")
        for problem in self.script.mirror_errors + self.driver.errors:
            self.say(f"Log streaming problem: {problem}")
        self._store_spooled_metrics()
        if outcome.stopped:
            raise _Stop
        self._move(RunStatus.FINALIZING)
        self._upload_outputs(workdir)
        failure = self.store.get_run(self.run_id).details.get("scriptFailure")
        if outcome.timed_out:
            self._end(
                RunStatus.FAILED,
                {
                    "code": RunErrorCode.RUN_TIMEOUT.value,
                    "message": f"The run ran longer than max_run_duration_seconds={limit} and "
                    "was stopped.",
                },
            )
        elif outcome.exit_code != 0 or failure:
            error = _script_error(outcome.exit_code, outcome.stderr_tail)
            if failure:  # the script's own run.fail(...): its words first
                error.update(failure, exitCode=outcome.exit_code)
            self._end(RunStatus.FAILED, error)
        elif self.metrics_lost is not None:
            self._end(RunStatus.FAILED, self._metrics_lost_error(self.metrics_lost))
        else:
            self._end(RunStatus.COMPLETED)

    def _store_spooled_metrics(self) -> None:
        """Store the metric values the script kept in its spool because it could not store
        them itself (its environment could not reach the store, or the store was down).
        Values that cannot be stored now either are kept in the spool, and the run does
        not end Completed (``MetricsLost``)."""
        from runyard.tracking.spool import replay

        try:
            result = replay(self.metric_spool, self.store.log_metrics)
        except OSError as exc:
            self.say(f"Could not read the metric spool {self.metric_spool}: {exc}")
            result = SpoolReplay(lost=1, error=f"the spool could not be read: {exc}")
        if result.stored:
            warning = (
                f"{result.stored} metric values the script could not store itself were stored "
                "by the executor after it ended (the reason is in the driver log)"
            )
            self.say(f"WARNING: {warning}")
            self.warnings.append(warning)
        if result.lost:
            self.metrics_lost = result
            warning = self._metrics_lost_error(result)["message"]
            self.say(f"WARNING: {warning}")
            self.warnings.append(warning)
        if result.stored or result.lost:
            self.store.update_run(self.run_id, details={"warnings": list(self.warnings)})

    def _metrics_lost_error(self, result: SpoolReplay) -> dict[str, Any]:
        return {
            "code": RunErrorCode.METRICS_LOST.value,
            "message": f"{result.lost} metric values the script logged could not be stored "
            f"({result.error}); they are kept in {self.metric_spool} on "
            f"{processes.hostname()}.",
            "metricsLost": result.lost,
        }

    def _upload_outputs(self, workdir: str) -> None:
        """Keep ``./outputs``; what had to be left out is said in the log and the run's
        warnings, without changing the status the script earned."""
        from runyard.node.outputs import upload_outputs

        report = upload_outputs(self.artifacts, self.run_id, workdir)
        if report.uploaded:
            self.say(f"Uploaded {len(report.uploaded)} files from ./outputs")
        if report.refused:
            for why in report.refused:
                self.say(f"WARNING: not kept from ./outputs: {why}")
            self.warnings.extend(f"not kept from ./outputs: {why}" for why in report.refused)
            self.store.update_run(self.run_id, details={"warnings": list(self.warnings)})

    # -- endings ----------------------------------------------------------------------
    def _finish_stopped(self) -> None:
        if self.workdir and self.script is not None:
            try:  # keep what the script wrote, however the run ends
                self._upload_outputs(self.workdir)
            except Exception as exc:
                self.say(f"Could not upload ./outputs: {type(exc).__name__}: {exc}")
        record = self.store.get_run(self.run_id)
        if record.is_terminal:
            self.say(f"The run is {record.status.value}; stopping.")
            return
        if record.status == RunStatus.CANCEL_REQUESTED or not self.terminated:
            # Whoever asked may have said why (a tuning policy's verdict): the run says it.
            reason = record.details.get(CANCEL_REASON)
            message = reason if isinstance(reason, str) and reason else "Canceled by request."
            self._end(RunStatus.CANCELED, {"code": RunErrorCode.CANCELED.value, "message": message})
        else:
            self._end(
                RunStatus.FAILED,
                {
                    "code": RunErrorCode.EXECUTOR_TERMINATED.value,
                    "message": "The executor was terminated (SIGTERM) while the run was "
                    f"{record.status.value}; the script was stopped.",
                },
            )

    def _crashed(self, exc: BaseException) -> None:
        if self.script is not None:
            self.script.kill()
        if isinstance(exc, EnvironmentBuildError):
            error = {"code": RunErrorCode.ENVIRONMENT_BUILD_FAILED.value, "message": str(exc)}
        elif isinstance(exc, RunyardError):
            error = {
                "code": RunErrorCode.SETUP_FAILED.value,
                "message": f"{type(exc).__name__}: {exc}",
            }
        else:
            error = {
                "code": RunErrorCode.EXECUTOR_ERROR.value,
                "message": f"The executor failed while the run was {self.status.value}: "
                f"{type(exc).__name__}: {exc}",
            }
        self.say("".join(traceback.format_exception(exc)).rstrip())
        try:
            self._end(RunStatus.FAILED, error)
        except Exception as store_exc:  # nothing more can be recorded; say it in the output
            self.say(f"Could not mark the run Failed: {store_exc}")

    def _clean_up(self, stored_all: bool) -> None:
        """Remove the working folder; and the run's scratch folder (the driver log's spool,
        the executor's own output) when every log line reached the store."""
        if self.settings.keep_workdir:
            return
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if stored_all:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _script_error(exit_code: int, stderr_tail: str) -> dict[str, Any]:
    how = f"was killed by signal {-exit_code}" if exit_code < 0 else f"exited with code {exit_code}"
    message = f"The script {how}."
    if stderr_tail:
        message += f"\n{stderr_tail}"
    return {
        "code": RunErrorCode.SCRIPT_FAILED.value,
        "message": message,
        "exitCode": exit_code,
        "stderrTail": stderr_tail,
    }


def pass_run_token_on(resources: WorkspaceResources) -> None:
    """Hand a team server's run token on to the run's script: an executor the server
    started holds a token scoped to its run, so the script (same run) gets it too, with
    the server's address and nothing else of the workspace. Other workspaces are left as
    they are (their scripts get the workspace's config)."""
    token = resources.settings.token
    if resources.config.server and token:
        access = {ENV_WORKSPACE: resources.config.to_json(), ENV_TOKEN: token}
        resources.node_access = lambda _run_id: dict(access)


def main(
    argv: list[str] | None = None,
    prepared_environments: Mapping[str, BuiltEnvironment] | None = None,
    warm_script: WarmScript | None = None,
) -> int:
    """Entry point: ``python -m runyard.node RUN_ID`` (``prepared_environments`` and
    ``warm_script``: see :class:`Executor`)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m runyard.node RUN_ID", file=sys.stderr)
        return 2
    if not os.environ.get(ENV_WORKSPACE):
        print(
            f"runyard.node.executor: {ENV_WORKSPACE} is not set (the workspace config as JSON).",
            file=sys.stderr,
        )
        return 2
    from runyard.settings import Settings

    # The edge: settings and the workspace are read here, once, and passed down.
    resources = WorkspaceResources.from_json(os.environ[ENV_WORKSPACE], Settings.from_env())
    pass_run_token_on(resources)
    try:
        return Executor(
            resources,
            args[0],
            prepared_environments=prepared_environments,
            warm_script=warm_script,
        ).run()
    finally:
        resources.close()


if __name__ == "__main__":
    sys.exit(main())

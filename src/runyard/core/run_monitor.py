"""Waiting for a run and following its logs as they grow (``run.wait_for_completion``).

With ``show_output`` it prints what SDK v1 users know::

    RunId: keras-mnist_1717000000_ab12cd34
    Status: Queued
    Streaming runyard-logs/executor.txt
    ...environment build...
    Status: Running
    Streaming runyard-logs/driver.txt
    ...the script's output, live...

    Execution Summary
    =================
    RunId: keras-mnist_1717000000_ab12cd34
    Status: Completed
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from runyard.artifacts.layout import DRIVER_LOG, EXECUTOR_LOG
from runyard.artifacts.tail import LogTail
from runyard.entities.run import RunRecord, RunStatus
from runyard.errors import NotFound, RunFailed, RunTimeout

if TYPE_CHECKING:
    from runyard.core.run import Run

POLL_SECONDS = 0.2
DISPATCH_CHECK_SECONDS = 15.0
_BEFORE_RUNNING = (RunStatus.NOT_STARTED, RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.STARTING)


class LogFollower:
    """Reads what was appended to one run file since the last call.

    Args:
        run: the run.
        name: the run file (``runyard-logs/driver.txt``).
    """

    def __init__(self, run: Run, name: str) -> None:
        self.name = name
        self._tail = LogTail(run._artifacts, run._file_key(name))
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read_new(self) -> str:
        """The text appended since the last call ("" when none, or no file yet)."""
        return self._decoder.decode(self._tail.read_new())


class QueueKeeper:
    """Keeps a cluster run's queue moving while someone waits on the run.

    A run Queued on a cluster target waits for the target's dispatcher (a Ray job), which
    dies with its node. Every ``DISPATCH_CHECK_SECONDS`` while the run is still Queued,
    this asks the target for its status, which starts a new dispatcher when the old one
    is gone, so a waiting user is not left waiting forever.

    Args:
        run: the run waited on.
    """

    def __init__(self, run: Run) -> None:
        self._run = run
        self._next = time.monotonic() + DISPATCH_CHECK_SECONDS

    def tick(self, record: RunRecord) -> None:
        """Called once per look at the run, with what that look saw."""
        if record.status != RunStatus.QUEUED or "rayDispatch" not in record.details:
            return
        if not record.target:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + DISPATCH_CHECK_SECONDS
        from runyard.core.compute_target import ComputeTarget
        from runyard.errors import RunyardError

        # An unreachable cluster or a deleted target: the next check tries again, and
        # the target's own status says what is wrong.
        with contextlib.suppress(RunyardError):
            ComputeTarget(self._run.workspace, record.target).get_status()


def _refresh(run: Run) -> RunRecord:
    return run._refresh_swept()


def log_tail(run: Run, lines: int = 30) -> str:
    """The last lines of the run's driver log (else its executor log)."""
    for name in (DRIVER_LOG, EXECUTOR_LOG):
        try:
            text = run._read_file(name).decode("utf-8", errors="replace")
        except NotFound:
            continue
        if text.strip():
            return "\n".join(text.rstrip().splitlines()[-lines:])
    return ""


def failure_message(run: Run, record: RunRecord) -> str:
    """What ``RunFailed`` says: the run, its error, the tail of its log."""
    error = record.error or {}
    message = f"Run {run.id} failed: {error.get('message') or 'no reason recorded'}"
    tail = log_tail(run)
    # The script's stderr is in the error already when its last line is: the log's tail
    # would repeat its traceback.
    last = tail.strip().splitlines()[-1] if tail.strip() else ""
    if tail and tail.strip() not in message and last not in message:
        message += f"\n--- last lines of its log ---\n{tail}"
    return message


def wait_for_completion(
    run: Run,
    show_output: bool = False,
    raise_on_error: bool = True,
    timeout_seconds: float | None = None,
    *,
    out: IO[str] | None = None,
) -> dict[str, Any]:
    """Wait until ``run`` is Completed, Failed or Canceled.

    Args:
        run: the run.
        show_output: print phase changes and the run's log as it grows.
        raise_on_error: raise RunFailed when the run failed.
        timeout_seconds: give up after this long (RunTimeout; the run goes on).
        out: where to print (default stdout).

    Returns:
        ``run.get_details()``.

    Raises:
        RunFailed: the run failed and ``raise_on_error`` (message: its error and log tail).
        RunTimeout: still going after ``timeout_seconds``.
    """
    stream = out or sys.stdout
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    followers = {n: LogFollower(run, n) for n in (EXECUTOR_LOG, DRIVER_LOG)}
    current: str | None = None
    last_status: RunStatus | None = None
    queue = QueueKeeper(run)

    def say(text: str) -> None:
        stream.write(text)
        stream.flush()

    if show_output:
        say(f"RunId: {run.id}\n")
        say(f"Web View: {_web_view(run)}\n\n")
    while True:
        record = _refresh(run)
        if show_output:
            wanted = EXECUTOR_LOG if record.status in _BEFORE_RUNNING else DRIVER_LOG
            if record.run_type != "submitted":
                wanted = ""
            if record.status != last_status:
                # The log up to this phase first: it was written before the phase began
                # (the executor flushes its log before it moves the run on).
                if current:
                    _print(say, followers[current].read_new())
                if record.is_terminal and wanted and wanted != current:
                    # It ended before we saw it run: its output before its end.
                    say(f"\nStreaming {wanted}\n{'=' * (10 + len(wanted))}\n\n")
                    current = wanted
                    _print(say, followers[current].read_new())
                say(f"Status: {record.status.value}\n")
                last_status = record.status
            if wanted and wanted != current:
                if current == EXECUTOR_LOG:
                    _print(say, followers[EXECUTOR_LOG].read_new())
                say(f"\nStreaming {wanted}\n{'=' * (10 + len(wanted))}\n\n")
                current = wanted
            if current:
                _print(say, followers[current].read_new())
        if record.is_terminal:
            break
        queue.tick(record)
        if deadline is not None and time.monotonic() > deadline:
            raise RunTimeout(
                f"Run {run.id} is still {record.status.value} after {timeout_seconds} s; "
                "it goes on. Wait again, or cancel it with run.cancel()."
            )
        time.sleep(POLL_SECONDS)
    if show_output:
        if current:
            time.sleep(0.05)
            _print(say, followers[current].read_new())
        say("\nExecution Summary\n=================\n")
        say(f"RunId: {run.id}\nStatus: {record.status.value}\n")
        if record.error:
            say(f"Error: {_summary_error(record.error, shown=current == DRIVER_LOG)}\n")
        say(f"Web View: {_web_view(run)}\n\n")
    if record.status == RunStatus.FAILED and raise_on_error:
        if show_output and current == DRIVER_LOG:  # its output is on the screen already
            message = f"Run {run.id} failed: {_summary_error(record.error or {}, shown=True)}"
        else:
            message = failure_message(run, record)
        raise RunFailed(message, run_id=run.id, error=record.error)
    return run.get_details()


def _summary_error(error: dict[str, Any], shown: bool) -> str:
    """The error for the summary: when the script's output was streamed (``shown``), its
    first line and the last line of the script's stderr (the exception), as the traceback
    is printed above already."""
    message = str(error.get("message") or "no reason recorded")
    tail = str(error.get("stderrTail") or "").strip()
    if not shown or not tail or tail not in message:
        return message
    head = message.replace(tail, "").strip()
    return f"{head} {tail.splitlines()[-1].strip()} (its output is above)"


def _print(say: Any, text: str) -> None:
    if text:
        say(text)


def _web_view(run: Run) -> str:
    config = run.workspace.config
    where = config.path or config.resolved_artifact_uri
    return f"runyard run show {run.id} (workspace {config.workspace_name} at {os.fspath(where)})"

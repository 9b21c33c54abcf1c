"""Reading a run's driver log, once or while the run runs.

The executor appends the script's stdout and stderr to the run file
``runyard-logs/driver.txt`` as they come; following a run is reading what was appended since
the last look, until the run's status is terminal.
"""

from __future__ import annotations

import codecs
import sys
import time
from typing import TYPE_CHECKING

import click

from runyard.artifacts.layout import DRIVER_LOG
from runyard.artifacts.tail import LogTail
from runyard.core.run_monitor import QueueKeeper
from runyard.entities.run import TERMINAL_STATUSES

if TYPE_CHECKING:
    from runyard.core.run import Run


#: How often a followed run is looked at. Short enough to feel live, long enough that the
#: store is not polled hard (one status read and one file read per tick).
POLL_SECONDS = 0.5

_TERMINAL = frozenset(s.value for s in TERMINAL_STATUSES)


def read_log(run: Run, name: str = DRIVER_LOG) -> bytes | None:
    """The whole log so far, or None when the run has none (yet)."""
    data = LogTail(run._artifacts, run._file_key(name)).read_new()
    if data:
        return data
    return b"" if run._artifacts.exists(run._file_key(name)) else None


def follow_run(run: Run, *, echo_output: bool = True, poll_seconds: float | None = None) -> str:
    """Print the run's log as it grows, and its status changes on stderr, until it ends.

    Args:
        run: the run to follow.
        echo_output: print the log on stdout (False: only wait, e.g. for ``--json``).
        poll_seconds: time between two looks (default :data:`POLL_SECONDS`).

    Returns:
        The run's final status (Completed, Failed or Canceled).
    """
    pause = POLL_SECONDS if poll_seconds is None else poll_seconds
    tail = LogTail(run._artifacts, run._file_key(DRIVER_LOG))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    last_status = None
    queue = QueueKeeper(run)
    while True:
        # Status first: the executor writes the whole log before the terminal status, so
        # the read after seeing that status gets the end of the log.
        record = run._refresh_swept()
        status = record.status.value
        queue.tick(record)
        if status != last_status:
            click.echo(f"[runyard] Run {run.id}: {status}", err=True)
            last_status = status
        chunk = tail.read_new()
        if chunk and echo_output:
            click.echo(decoder.decode(chunk), nl=False)
            sys.stdout.flush()
        if status in _TERMINAL:
            rest = decoder.decode(b"", final=True)
            if rest and echo_output:
                click.echo(rest, nl=False)
            return status
        time.sleep(pause)

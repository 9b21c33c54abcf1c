"""Following the tail of a run's log, as ``wait_for_completion(show_output=True)`` does.

A submitted run's executor log (environment, placement) until the run is Running, then
the script's output (``driver.txt``); a HyperDrive run's tuning log. Only what was
appended since the last look is read (:class:`runyard.artifacts.tail.LogTail`), and the
last lines are kept.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from runyard.artifacts.layout import DRIVER_LOG, EXECUTOR_LOG, HYPERDRIVE_LOG, run_file_key
from runyard.artifacts.tail import LogTail
from runyard.entities.run import RunStatus
from runyard.widgets.records import LogView

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.entities.run import RunRecord

#: Lines of the log the widget keeps.
MAX_LINES = 200

_BEFORE_RUNNING = (RunStatus.NOT_STARTED, RunStatus.QUEUED, RunStatus.PREPARING, RunStatus.STARTING)


def log_name_for(record: RunRecord) -> str:
    """The run file to show for ``record`` now (see the module docstring)."""
    if record.run_type == "hyperdrive":
        return HYPERDRIVE_LOG
    if record.run_type != "interactive" and record.status in _BEFORE_RUNNING:
        return EXECUTOR_LOG
    return DRIVER_LOG


class _Tail:
    def __init__(self, artifacts: ArtifactStore, run_id: str, name: str) -> None:
        self.tail = LogTail(artifacts, run_file_key(run_id, name))
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read_new(self) -> str:
        return self.decoder.decode(self.tail.read_new())


class LogFollower:
    """The last lines of a run's log, read incrementally.

    Args:
        artifacts: the workspace's artifact store.
        run_id: the run.
        max_lines: lines kept.
    """

    def __init__(self, artifacts: ArtifactStore, run_id: str, *, max_lines: int = MAX_LINES):
        self._artifacts = artifacts
        self.run_id = run_id
        self._max_lines = max_lines
        self._current: str = ""
        self._tails: dict[str, _Tail] = {}
        self._lines: list[str] = []
        self._partial = ""  # the last line, until its newline comes

    def update(self, record: RunRecord) -> bool:
        """Read what was appended since the last call; True when anything was.

        Args:
            record: the run as it is now (its status picks the file).
        """
        wanted = log_name_for(record)
        changed = False
        if wanted != self._current:
            if self._current:  # the end of the earlier file first, as it was written first
                changed |= self._add(self._tail(self._current).read_new())
            self._current = wanted
            changed = True
        changed |= self._add(self._tail(wanted).read_new())
        return changed

    def view(self) -> LogView:
        """The log's tail now."""
        lines = [*self._lines, self._partial] if self._partial else self._lines
        return LogView(name=self._current, text="\n".join(lines[-self._max_lines :]))

    def _tail(self, name: str) -> _Tail:
        if name not in self._tails:
            self._tails[name] = _Tail(self._artifacts, self.run_id, name)
        return self._tails[name]

    def _add(self, text: str) -> bool:
        if not text:
            return False
        *complete, self._partial = (self._partial + text).split("\n")
        self._lines.extend(line.rstrip("\r") for line in complete)
        del self._lines[: -self._max_lines]
        return True

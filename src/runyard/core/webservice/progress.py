"""What ``wait_for_deployment(show_output=True)`` prints while it waits, as SDK v1 did:
the operation's state, its log lines as they come (timestamped), dots while nothing
happens, and the state it ended in."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

#: At most one dot per this many seconds while nothing new is logged.
DOT_EVERY_S = 0.5


@dataclass
class DeploymentProgress:
    """Prints a deployment's progress to ``out``.

    Args:
        out: where to print (standard output when None).
    """

    out: TextIO | None = None
    _line_open: bool = False
    _last_dot: float = 0.0

    def _write(self, text: str) -> None:
        out = self.out or sys.stdout
        out.write(text)
        out.flush()

    def start(self) -> None:
        """The first line: the operation runs."""
        self._write("Running\n")

    def log(self, text: str) -> None:
        """New lines of the service's log, each with the time it was seen (UTC), or a
        dot when there are none (at most every :data:`DOT_EVERY_S`)."""
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            now = time.monotonic()
            if now - self._last_dot >= DOT_EVERY_S:
                self._last_dot = now
                self._line_open = True
                self._write(".")
            return
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00")
        head = "\n" if self._line_open else ""
        self._line_open = False
        self._write(head + "".join(f"{stamp} {line}\n" for line in lines))

    def end(self, operation: str, final_line: str | None) -> None:
        """The end: the operation's outcome (``Succeeded``, ``Failed``, ``TimedOut``) and,
        on success, ``final_line``."""
        head = "\n" if self._line_open else ""
        self._line_open = False
        self._write(f"{head}{operation}\n" + (f"{final_line}\n" if final_line else ""))

"""Progress bars for transfers of files (runs, models, datastores), on stderr."""

from __future__ import annotations

import threading
from typing import Any


class TransferProgress:
    """A rich progress bar over bytes and files, or nothing when disabled.

    ``advance(nbytes)`` counts one finished file of ``nbytes``; it is safe from several
    threads (rich's Progress is locked).
    """

    def __init__(self, label: str, total_bytes: int, total_files: int, *, enabled: bool) -> None:
        self.label = label
        self.total_bytes = total_bytes
        self.total_files = total_files
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self._files = 0
        self._lock = threading.Lock()

    def __enter__(self) -> TransferProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[files]}/{task.fields[total_files]} files"),
                TimeRemainingColumn(),
                # stderr: stdout stays clean for pipes and --json.
                console=Console(stderr=True),
            )
            self._progress.start()
            self._task = self._progress.add_task(
                self.label,
                total=max(self.total_bytes, 1),
                total_files=self.total_files,
                files=0,
            )
        return self

    def advance(self, nbytes: int) -> None:
        if self._progress is not None:
            with self._lock:
                self._files += 1
                self._progress.update(self._task, advance=nbytes, files=self._files)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            if exc[0] is None and self.total_bytes == 0:
                self._progress.update(self._task, completed=1)
            self._progress.stop()


def console_print(message: str) -> None:
    """One line for the user, on the same console as the progress bars."""
    from rich.console import Console

    Console(highlight=False, stderr=True).print(message, markup=False)

"""What a submitted run adds to :class:`runyard.core.run.Run`: its logs and its snapshot."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from runyard.artifacts.layout import LOG_PREFIXES
from runyard.entities.run_details import RUN_DEFINITION
from runyard.errors import NotFound

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace
    from runyard.entities.run import RunRecord


def snapshot_of(record: RunRecord) -> str | None:
    """The snapshot id a run's details hold (stored once: in the run definition of a
    submitted run, under ``snapshotId`` for a run started with a snapshot directory)."""
    definition = record.details.get(RUN_DEFINITION)
    snapshot = definition.get("snapshotId") if isinstance(definition, dict) else None
    snapshot = snapshot or record.details.get("snapshotId")
    return snapshot if isinstance(snapshot, str) else None


class RunSubmittedMixin:
    """Log and snapshot methods of :class:`runyard.core.run.Run`."""

    id: str
    _record: RunRecord | None

    if TYPE_CHECKING:

        @property
        def workspace(self) -> Workspace: ...

        def get_details(self) -> dict[str, Any]: ...

        def _refresh(self) -> RunRecord: ...

        def get_file_names(self) -> list[str]: ...

        def _read_file(self, name: str) -> bytes: ...

        def download_file(
            self, name: str, output_file_path: str | os.PathLike[str] | None = None
        ) -> str: ...

    def _refresh_swept(self) -> RunRecord:
        """The run's record, after the liveness sweeper looked at it: for those who wait on
        the run and would otherwise wait forever on one whose process died. Plain reads
        (``get_status``, ``get_details``) never do this."""
        from runyard.node.liveness import sweep_run

        resources = self.workspace.resources
        record = sweep_run(resources, resources.store.get_run(self.id))
        self._record = record
        return record

    def _log_names(self) -> list[str]:
        return [n for n in self.get_file_names() if n.startswith(LOG_PREFIXES)]

    def get_details_with_logs(self) -> dict[str, Any]:
        """``get_details()`` with ``logFiles`` mapping each log file to its text."""
        details = self.get_details()
        details["logFiles"] = {
            name: self._read_file(name).decode("utf-8", errors="replace")
            for name in self._log_names()
        }
        return details

    def get_all_logs(self, destination: str | os.PathLike[str] | None = None) -> list[str]:
        """Download the run's logs (``runyard-logs/``, ``logs/``) keeping their names.

        Args:
            destination: a folder; default ``./<run id>``.

        Returns:
            The local paths written.
        """
        folder = os.fspath(destination) if destination is not None else os.path.abspath(self.id)
        written = []
        for name in self._log_names():
            target = os.path.join(folder, *name.split("/"))
            written.append(self.download_file(name, target))
        return written

    def get_snapshot_id(self) -> str | None:
        """The id of the run's source snapshot (None when it has none)."""
        record = self._record if self._record is not None else self._refresh()
        snapshot = snapshot_of(record)
        if snapshot is None and self._record is not None:
            snapshot = snapshot_of(self._refresh())
        return snapshot

    def restore_snapshot(
        self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None
    ) -> str:
        """Get a snapshot's files back (the run's own by default).

        As SDK v1 does, ``path`` None or ending in ``.zip`` gets a ZIP file (default
        ``./<snapshot id>.zip``); any other path is a folder the files are restored into.

        Returns:
            The path of the ZIP file or of the folder.

        Raises:
            NotFound: the run has no snapshot, or the snapshot does not exist.
        """
        from runyard.artifacts.snapshots import restore_snapshot

        snapshot = snapshot_id or self.get_snapshot_id()
        if not snapshot:
            raise NotFound(
                f"Run {self.id} has no snapshot; submitted runs and runs started with "
                "start_logging(snapshot_directory=...) have one."
            )
        artifacts = self.workspace.resources.artifacts
        target = os.fspath(path) if path is not None else f"{snapshot}.zip"
        if not target.lower().endswith(".zip"):
            restore_snapshot(artifacts, snapshot, target)
            return target
        import tempfile
        import zipfile

        with tempfile.TemporaryDirectory(prefix="runyard-snapshot-") as tmp:
            files = restore_snapshot(artifacts, snapshot, tmp)
            partial = f"{target}.partial"
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
                for rel in files:
                    zf.write(os.path.join(tmp, *rel.split("/")), rel)
            os.replace(partial, target)
        return target

"""RunWatcher: one look at a run for the widget, reading only what changed since the last.

Everything goes through the workspace's ports (the TrackingStore and the ArtifactStore),
so the widget follows a run on an embedded workspace and on a server workspace alike;
the browser never reaches a server itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard.errors import InvalidArgument
from runyard.widgets.children import ChildFollower
from runyard.widgets.logs import MAX_LINES, LogFollower
from runyard.widgets.records import RunHeader, RunView
from runyard.widgets.series import MAX_POINTS, SeriesFollower

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.resources import WorkspaceResources


def header_of(record: RunRecord, page_url: str | None = None) -> RunHeader:
    """The widget's header for ``record``."""
    error = record.error or {}
    return RunHeader(
        run_id=record.run_id,
        experiment=record.experiment_name,
        run_type=record.run_type,
        status=record.status.value,
        display_name=record.display_name,
        target=record.target,
        started_at=record.started_at,
        ended_at=record.ended_at,
        error=str(error["message"]) if error.get("message") else None,
        is_terminal=record.is_terminal,
        page_url=page_url,
    )


class RunWatcher:
    """Looks at one run: its status, its scalar metrics, its log's tail and, for a
    HyperDrive run, its children.

    Args:
        resources: the run's workspace.
        run_id: the run.
        page_url: the run's page in the web UI, shown in the header (server workspaces).
        max_points: points per metric line.
        log_lines: lines of the log kept.
    """

    def __init__(
        self,
        resources: WorkspaceResources,
        run_id: str,
        *,
        page_url: str | None = None,
        max_points: int = MAX_POINTS,
        log_lines: int = MAX_LINES,
    ) -> None:
        self._resources = resources
        self.run_id = run_id
        self._page_url = page_url
        self._series = SeriesFollower(resources.store, run_id, max_points=max_points)
        self._log = LogFollower(resources.artifacts, run_id, max_lines=log_lines)
        self._children: ChildFollower | None = None

    def header(self) -> RunHeader:
        """The run's header alone: one read of its record, for a widget to show at once
        while its first full look (which may read a long history) is taken.

        Raises:
            NotFound: the run does not exist.
        """
        return header_of(self._resources.store.get_run(self.run_id), self._page_url)

    def poll(self) -> RunView:
        """Look at the run now.

        The run's record is read first and its metrics and logs after, so a view whose
        header says the run ended holds everything the run logged.

        Raises:
            NotFound: the run does not exist (any more).
            RunyardError: the workspace cannot be reached (a server that is down).
        """
        from runyard.node.liveness import sweep_run

        resources = self._resources
        # As wait_for_completion does for the run it waits on: a run whose process died
        # is marked so, and the widget stops following it instead of waiting forever.
        record = sweep_run(resources, resources.store.get_run(self.run_id))
        self._series.update()
        self._log.update(record)
        started_at = record.started_at or record.created_at
        tuning = None
        children = self._children_of(record)
        if children is not None:
            children.update(record)
            tuning = children.view(started_at)
        return RunView(
            header=header_of(record, self._page_url),
            series=self._series.views(started_at),
            log=self._log.view(),
            tuning=tuning,
        )

    def _children_of(self, record: RunRecord) -> ChildFollower | None:
        if record.run_type != "hyperdrive":
            return None
        if self._children is None:
            from runyard.sweep.ranking import study_of

            try:
                spec = study_of(record).spec
            except InvalidArgument:  # its study is not recorded yet: the next look
                return None
            self._children = ChildFollower(self._resources.store, self.run_id, spec)
        return self._children

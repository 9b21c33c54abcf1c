"""Experiment: a named group of runs in a workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from runyard.entities.run import RunStatus
from runyard.entities.validation import (
    check_display_name,
    check_entity_name,
    check_key,
    check_tag_value,
)

if TYPE_CHECKING:
    from runyard.core.run import Run
    from runyard.core.workspace import Workspace
    from runyard.entities.experiment import ExperimentRecord
    from runyard.resources import WorkspaceResources


class Experiment:
    """An experiment; ``Experiment(workspace, name)`` gets it or creates it.

    Args:
        workspace: the workspace it belongs to.
        name: letters, digits, ``_``, ``-`` and ``.``, at most 255 characters.

    Raises:
        InvalidArgument: the name is not allowed.
    """

    def __init__(
        self, workspace: Workspace, name: str, *, _record: ExperimentRecord | None = None
    ) -> None:
        check_entity_name("Experiment", name)
        self._workspace = workspace
        self._record = _record or workspace.resources.store.create_experiment(name)

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def id(self) -> int:
        return self._record.experiment_id

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @staticmethod
    def list(workspace: Workspace, experiment_name: str | None = None) -> list[Experiment]:
        """Experiments of the workspace, oldest first (or the one named)."""
        return [
            Experiment(workspace, r.name, _record=r)
            for r in workspace.resources.store.list_experiments()
            if experiment_name is None or r.name == experiment_name
        ]

    def get_runs(
        self,
        type: str | None = None,
        tags: str | dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        include_children: bool = False,
    ) -> Iterator[Run]:
        """This experiment's runs, newest first.

        Args:
            type: only runs of this type (``interactive``, ``submitted``, ``hyperdrive``).
            tags: a tag name (runs that have it) or a dict of name -> value (None: any).
            properties: a dict of name -> value that runs must have.
            include_children: also child runs; by default top-level runs only.
        """
        from runyard.core.run import Run

        tag_filter: dict[str, str | None] | None
        tag_filter = {tags: None} if isinstance(tags, str) else tags
        for record in self._workspace.resources.store.list_runs(
            experiment_name=self.name, tags=tag_filter
        ):
            if not include_children and record.parent_run_id is not None:
                continue
            if type is not None and record.run_type != type:
                continue
            if properties and any(record.properties.get(k) != v for k, v in properties.items()):
                continue
            yield Run._from_record(self._workspace, record, experiment=self)

    def start_logging(
        self,
        *args: Any,
        display_name: str | None = None,
        outputs: str | None = None,
        snapshot_directory: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Run:
        """Start an interactive run (status Running) that logs from this process.

        Use it as a context manager to complete it at the end of the block, or fail it
        when the block raises::

            with exp.start_logging() as run:
                run.log("loss", 0.1)

        Args:
            display_name: shown instead of the run id.
            outputs: a folder whose files are uploaded as ``outputs/`` when the run completes.
            snapshot_directory: a folder snapshotted with the run (its source code).
            tags: tags to set on the run.
        """
        from runyard.core.run import Run
        from runyard.tracking.buffer import install_sigterm_exit

        run_id = _new_run_id(self.name)
        checked_tags = {
            check_key("Tag", k): check_tag_value("Tag", k, v) for k, v in (tags or {}).items()
        }
        resources = self._workspace.resources
        store = resources.store
        if resources.first_use(("sweep-interactive", self.name)):
            _sweep_silent_interactive_runs(resources, self.name)
        record = store.create_run(
            self.name,
            run_id=run_id,
            status=RunStatus.RUNNING,
            display_name=check_display_name(display_name),
            run_type="interactive",
            tags=checked_tags,
            details={"outputs": outputs} if outputs else None,
        )
        run = Run._from_record(self._workspace, record, experiment=self)
        run._heartbeat = resources.start_heartbeat(run_id)
        install_sigterm_exit()
        if snapshot_directory:
            run._take_snapshot(snapshot_directory)
        return run

    def submit(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Run:
        """Submit a run configuration (ScriptRunConfig, Estimator, HyperDriveConfig).

        Returns at once with the run Queued; the run goes on after this process exits.
        """
        from runyard.core.submission import submit

        return submit(self, config, tags=tags, **kwargs)

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, workspace={self._workspace.name!r})"


def _sweep_silent_interactive_runs(resources: WorkspaceResources, experiment: str) -> None:
    """End the experiment's interactive runs whose process stopped beating (killed): the
    first run a process starts in an experiment is the moment someone works there again.

    Not on a server workspace: there the server's sweeper judges silent runs, with the
    longer wait it gives interactive runs (a colleague's notebook whose network is away
    must not be failed by this process's 30 s).
    """
    from runyard.node.liveness import is_silent, sweep_run

    if resources.config.server:
        return
    timeout = resources.settings.liveness_timeout_s
    for record in resources.store.list_runs(
        experiment_name=experiment, statuses=[RunStatus.RUNNING]
    ):
        if record.run_type == "interactive" and is_silent(record, timeout):
            sweep_run(resources, record)


def _new_run_id(experiment_name: str) -> str:
    """``<experiment>_<unix seconds>_<8 hex>``, the shape SDK v1 run ids have."""
    import time

    return f"{experiment_name[:200]}_{int(time.time())}_{uuid.uuid4().hex[:8]}"

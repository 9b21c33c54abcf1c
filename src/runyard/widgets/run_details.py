"""RunDetails: a text snapshot of a run and its children (see the package docstring)."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

from runyard.entities.run import TERMINAL_STATUSES

if TYPE_CHECKING:
    from runyard.core.run import Run

MAX_CHILDREN = 50


class RunDetails:
    """What SDK v1's widget shows of a run, as text.

    Args:
        run_instance: a Run or HyperDriveRun.
    """

    def __init__(self, run_instance: Run) -> None:
        self.run_instance = run_instance

    def show(self, out: IO[str] | None = None) -> None:
        """Print the snapshot (to ``out``, default stdout)."""
        stream = out or sys.stdout
        stream.write(self.render())
        stream.flush()

    def render(self) -> str:
        """The snapshot as text."""
        run = self.run_instance
        record = run.workspace.resources.store.get_run(run.id)
        lines = [
            f"Run {record.run_id} ({record.run_type}) in experiment {record.experiment_name!r}",
            f"Status: {record.status.value}",
        ]
        if record.error and record.error.get("message"):
            lines.append(f"Error: {record.error['message']}")
        if record.run_type == "hyperdrive":
            lines += self._tuning(record)
            show = f"runyard tune show {record.run_id}"
        else:
            lines += self._children(record.run_id)
            show = f"runyard run show {record.run_id}"
        lines.append("")
        follow = (
            ""
            if record.status in TERMINAL_STATUSES
            else "; follow it with run.wait_for_completion(show_output=True)"
        )
        lines.append(f"Live widgets are not available in Runyard yet. Details: {show}{follow}.")
        return "\n".join(lines) + "\n"

    def _tuning(self, record: object) -> list[str]:
        from runyard.sweep.ranking import ranked_children, study_of

        resources = self.run_instance.workspace.resources
        spec = study_of(record).spec  # type: ignore[arg-type]
        ranked = ranked_children(resources, record)  # type: ignore[arg-type]
        lines = [
            f"Primary metric: {spec.primary_metric_name} ({spec.goal.value}); "
            f"{len(ranked)} of at most {spec.max_total_runs} children so far",
        ]
        if ranked:
            lines.append(
                f"{'Child run':<40} {'Status':<10} {spec.primary_metric_name:>12}  Hyperparameters"
            )
        for child in ranked[:MAX_CHILDREN]:
            value = "-" if child.best_primary_metric is None else f"{child.best_primary_metric:.6g}"
            lines.append(
                f"{child.run_id:<40} {child.status:<10} {value:>12}  {child.hyperparameters or ''}"
            )
        if len(ranked) > MAX_CHILDREN:
            lines.append(f"... and {len(ranked) - MAX_CHILDREN} more")
        return lines

    def _children(self, run_id: str) -> list[str]:
        store = self.run_instance.workspace.resources.store
        children = store.list_runs(parent_run_id=run_id)
        if not children:
            return []
        lines = [f"Children: {len(children)}"]
        for child in children[:MAX_CHILDREN]:
            lines.append(f"  {child.run_id:<40} {child.status.value}")
        return lines

"""The text view of a run: what ``RunDetails(run).show()`` prints where the live widget
cannot be shown (outside a Jupyter kernel, or without ``runyard[widgets]``), as SDK v1
prints a snapshot where widgets are not installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard.entities.run import TERMINAL_STATUSES

if TYPE_CHECKING:
    from runyard.entities.run import RunRecord
    from runyard.resources import WorkspaceResources

#: Children listed at most; the rest are counted.
MAX_CHILDREN = 50


def text_view(resources: WorkspaceResources, run_id: str, page_url: str | None = None) -> str:
    """The run's status, its children so far (for a HyperDrive run, their hyperparameters
    and best primary metric, best first) and where to look next.

    Args:
        resources: the run's workspace.
        run_id: the run.
        page_url: its page in the web UI (a server workspace), printed when given.

    Raises:
        NotFound: the run does not exist.
    """
    record = resources.store.get_run(run_id)
    lines = [
        f"Run {record.run_id} ({record.run_type}) in experiment {record.experiment_name!r}",
        f"Status: {record.status.value}",
    ]
    if record.error and record.error.get("message"):
        lines.append(f"Error: {record.error['message']}")
    if record.run_type == "hyperdrive":
        lines += _tuning(resources, record)
        show = f"runyard tune show {record.run_id}"
    else:
        lines += _children(resources, record.run_id)
        show = f"runyard run show {record.run_id}"
    lines.append("")
    if page_url:
        lines.append(f"Run page: {page_url}")
    follow = (
        ""
        if record.status in TERMINAL_STATUSES
        else "; follow it with run.wait_for_completion(show_output=True)"
    )
    lines.append(f"Details: {show}{follow}.")
    return "\n".join(lines) + "\n"


def _tuning(resources: WorkspaceResources, record: RunRecord) -> list[str]:
    from runyard.errors import InvalidArgument
    from runyard.sweep.ranking import ranked_children, study_of

    try:
        spec = study_of(record).spec
    except InvalidArgument:  # submitted, its study not recorded yet
        return ["No children yet."]
    ranked = ranked_children(resources, record)
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


def _children(resources: WorkspaceResources, run_id: str) -> list[str]:
    children = resources.store.list_runs(parent_run_id=run_id)
    if not children:
        return []
    lines = [f"Children: {len(children)}"]
    for child in children[:MAX_CHILDREN]:
        lines.append(f"  {child.run_id:<40} {child.status.value}")
    if len(children) > MAX_CHILDREN:
        lines.append(f"  ... and {len(children) - MAX_CHILDREN} more")
    return lines

"""``runyard run list|show|metrics|download|cancel`` (submit and logs: ``run_submit.py``)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.output import format_duration, format_pairs, format_time, iso_time
from runyard.cli.run_submit import logs, submit
from runyard.entities.run import RunStatus
from runyard.errors import NotFound

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace
    from runyard.entities.run import RunRecord

#: Runs listed when --limit is not given; a note on stderr says when there are more.
DEFAULT_LIMIT = 50


@click.group()
def run() -> None:
    """List, inspect, submit, follow and cancel runs."""


run.add_command(submit)
run.add_command(logs)


def run_summary(record: RunRecord) -> dict[str, Any]:
    """The JSON of one run in ``run list``."""
    return {
        "runId": record.run_id,
        "number": record.number,
        "experiment": record.experiment_name,
        "displayName": record.display_name,
        "status": record.status.value,
        "runType": record.run_type,
        "target": record.target or "local",
        "parentRunId": record.parent_run_id,
        "createdTimeUtc": iso_time(record.created_at),
        "startTimeUtc": iso_time(record.started_at),
        "endTimeUtc": iso_time(record.ended_at),
        "tags": dict(record.tags),
    }


@run.command(
    "list",
    epilog=(
        "\b\nExamples:\n"
        "  runyard run list\n"
        "  runyard run list --experiment keras-mnist --status Failed --limit 5\n"
        "  runyard run list --status Running --status Queued --json"
    ),
)
@click.option("-e", "--experiment", "experiment_name", metavar="NAME", help="Only this one's runs.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in RunStatus], case_sensitive=False),
    help="Only runs in this status (repeat for several).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many runs, newest first; 0 for all.",
)
@click.option("--include-children", is_flag=True, help="Also child runs (HyperDrive trials...).")
@json_option
@pass_state
def list_runs(
    state: CliState,
    experiment_name: str | None,
    statuses: tuple[str, ...],
    limit: int,
    include_children: bool,
) -> None:
    """List runs, newest first.

    JSON: a list of {"runId", "number", "experiment", "displayName", "status", "runType",
    "target", "parentRunId", "createdTimeUtc", "startTimeUtc", "endTimeUtc", "tags"}.
    """
    ws = state.workspace()
    store = ws.resources.store
    if experiment_name is not None:
        _check_experiment(ws, experiment_name)
    # Child runs are filtered out here, so the store's limit only applies when they stay.
    records = store.list_runs(
        experiment_name=experiment_name,
        statuses=[RunStatus(s) for s in statuses] or None,
        limit=(limit + 1 if limit else None) if include_children else None,
    )
    if not include_children:
        records = [r for r in records if r.parent_run_id is None]
    out = state.output
    if limit and len(records) > limit:
        records = records[:limit]
        out.note(f"Showing the {limit} newest runs; --limit N shows more, --limit 0 all.")
    if out.json_output:
        out.json([run_summary(r) for r in records])
        return
    out.table(
        ["Run ID", "Experiment", "#", "Status", "Type", "Created", "Duration"],
        [
            (
                r.run_id,
                r.experiment_name,
                r.number,
                r.status.value,
                r.run_type,
                format_time(r.created_at),
                format_duration(r.started_at, r.ended_at),
            )
            for r in records
        ],
        empty="No runs match." if (experiment_name or statuses) else "No runs yet.",
    )


def _check_experiment(ws: Workspace, name: str) -> None:
    """Refuse an unknown experiment name, listing the known ones."""
    try:
        ws.resources.store.get_experiment(name)
    except NotFound:
        known = [e.name for e in ws.resources.store.list_experiments()]
        raise NotFound(
            f"Experiment {name!r} not found in workspace {ws.name!r}. "
            f"Known experiments: {', '.join(known[:20]) or 'none'}."
        ) from None


@run.command(
    epilog="\b\nExamples:\n  runyard run show RUN_ID\n  runyard run show RUN_ID --json | jq .status"
)
@click.argument("run_id")
@json_option
@pass_state
def show(state: CliState, run_id: str) -> None:
    """Show a run: status, times, target, tags, properties, error, log files, metrics.

    JSON: the run's details as Run.get_details() returns them ("runId", "status",
    "startTimeUtc", "tags", "properties", "logFiles", "error"...).
    """
    from runyard.core.run import Run

    run_obj = Run.get(state.workspace(), run_id)
    details = run_obj.get_details()
    out = state.output
    if out.json_output:
        out.json(details)
        return
    record = run_obj._rec()
    error = details.get("error")
    metrics = run_obj.get_metrics()
    out.fields(
        [
            ("Run ID", details["runId"]),
            ("Display name", details["displayName"]),
            ("Experiment", details["experiment"]),
            ("Number", details["number"]),
            ("Status", details["status"]),
            ("Type", details["runType"]),
            ("Target", details["target"]),
            ("Parent", details["parentRunId"]),
            ("Created", format_time(record.created_at)),
            ("Started", format_time(record.started_at)),
            ("Ended", format_time(record.ended_at)),
            ("Duration", format_duration(record.started_at, record.ended_at)),
            ("Tags", format_pairs(details["tags"])),
            ("Properties", format_pairs(details["properties"])),
            ("Error", error.get("message") if isinstance(error, dict) else error),
            ("Log files", ", ".join(details["logFiles"]) or "-"),
            ("Metrics", ", ".join(metrics) or "-"),
        ],
        title=f"Run {run_id}",
    )


@run.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard run metrics RUN_ID\n"
        "  runyard run metrics RUN_ID --name Accuracy\n"
        '  runyard run metrics RUN_ID --json   # NaN and inf as "NaN", "Infinity"'
    )
)
@click.argument("run_id")
@click.option("-n", "--name", help="Only this metric, every value with its step.")
@json_option
@pass_state
def metrics(state: CliState, run_id: str, name: str | None) -> None:
    """Show a run's metrics as Run.get_metrics() shapes them.

    One value is a number, several are a list, tables are dicts of columns. JSON: that
    dict, with NaN and infinities written as the strings "NaN", "Infinity", "-Infinity".
    """
    from runyard.core.run import Run

    run_obj = Run.get(state.workspace(), run_id)
    values = run_obj.get_metrics(name=name)
    if name is not None and name not in values:
        known = ", ".join(run_obj.get_metrics()) or "none"
        raise NotFound(f"Run {run_id} has no metric {name!r}. Its metrics: {known}.")
    out = state.output
    if out.json_output:
        out.json(values)
        return
    if name is None:
        out.table(
            ["Name", "Value"],
            values.items(),
            empty=f"Run {run_id} has logged no metrics.",
        )
        return
    from runyard.entities.metric import MetricKind

    records = run_obj._fetch_metrics(name)
    one_by_one = (MetricKind.SCALAR, MetricKind.TEXT)  # run.log's numbers and texts
    if records and records[-1].kind in one_by_one:
        scalars = [r for r in records if r.kind in one_by_one]
        out.table(
            ["#", "Step", "Value", "Logged"],
            [(i, r.step, r.value, format_time(r.logged_at)) for i, r in enumerate(scalars)],
            title=f"{name} ({run_id})",
        )
    else:
        out.fields([(name, values[name])])


@run.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard run download RUN_ID                       # every file, into .\n"
        "  runyard run download RUN_ID --prefix outputs/ --output ./result"
    )
)
@click.argument("run_id")
@click.option("--prefix", help="Only files whose names start with this (e.g. outputs/).")
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Folder to download into; files keep their run names (outputs/model/...).",
)
@json_option
@pass_state
def download(state: CliState, run_id: str, prefix: str | None, output_dir: str) -> None:
    """Download a run's files (outputs, logs, images).

    JSON: {"runId", "outputDirectory", "files": [local paths]}.
    """
    from runyard.core.run import Run

    run_obj = Run.get(state.workspace(), run_id)
    out = state.output
    # A progress bar only for a person watching: in a pipe it would land among the paths.
    written = run_obj.download_files(
        prefix=prefix,
        output_directory=output_dir,
        show_progress=not out.json_output and sys.stdout.isatty(),
    )
    if prefix and not written:
        names = run_obj.get_file_names()
        shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        raise NotFound(f"Run {run_id} has no files under {prefix!r}. Its files: {shown or 'none'}.")
    if out.json_output:
        out.json(
            {
                "runId": run_id,
                "outputDirectory": os.path.abspath(output_dir),
                "files": [os.path.abspath(p) for p in written],
            }
        )
        return
    if not written:
        out.note(f"Run {run_id} has no files.")
    for path in written:
        out.line(path)


@run.command(epilog="\b\nExamples:\n  runyard run cancel RUN_ID")
@click.argument("run_id")
@json_option
@pass_state
def cancel(state: CliState, run_id: str) -> None:
    """Cancel a run: a submitted run's whole process tree is stopped.

    A run that has already ended is left as it is. JSON: {"runId", "status"}.
    """
    from runyard.core.run import Run

    run_obj = Run.get(state.workspace(), run_id)
    before = run_obj.get_status()
    run_obj.cancel()
    after = run_obj.get_status()
    out = state.output
    if out.json_output:
        out.json({"runId": run_id, "status": after})
    elif before == after:
        out.line(f"Run {run_id} had already ended ({after}); nothing to cancel.")
    else:
        out.line(f"Run {run_id}: {before} -> {after}")

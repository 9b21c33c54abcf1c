"""``runyard experiment list``."""

from __future__ import annotations

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.output import format_time, iso_time


@click.group()
def experiment() -> None:
    """List experiments (named groups of runs)."""


@experiment.command(
    "list", epilog="\b\nExamples:\n  runyard experiment list\n  runyard experiment list --json"
)
@json_option
@pass_state
def list_experiments(state: CliState) -> None:
    """List the workspace's experiments, oldest first, with their run counts.

    JSON: a list of {"name", "id", "runCount", "createdTimeUtc"}.
    """
    records = state.workspace().resources.store.list_experiments()
    out = state.output
    if out.json_output:
        out.json(
            [
                {
                    "name": r.name,
                    "id": r.experiment_id,
                    "runCount": r.run_count,
                    "createdTimeUtc": iso_time(r.created_at),
                }
                for r in records
            ]
        )
        return
    out.table(
        ["Name", "Runs", "Created"],
        [(r.name, r.run_count, format_time(r.created_at)) for r in records],
        empty="No experiments yet. Runs create them: Experiment(ws, 'name').start_logging() "
        "or 'runyard run submit --experiment NAME SCRIPT'.",
    )

"""``runyard tune submit|show|resume|cancel``: HyperDrive sweeps from the command line."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.errors import CommandFailed

if TYPE_CHECKING:
    from runyard.train.hyperdrive.run import HyperDriveRun

_SUBMIT_EPILOG = """\b
Spec keys (JSON; YAML with PyYAML installed, as .yaml/.yml):
  script, space, primary_metric_name, max_total_runs           (required)
  experiment, source_directory, arguments, pip_packages, target,
  sampling (random|grid|bayesian|optuna:<name>), seed, policy,
  primary_metric_goal (maximize|minimize), max_concurrent_runs, max_duration_minutes
\b
Example spec:
  {"script": "train.py", "arguments": ["--epochs", 3],
   "space": {"--lr": {"loguniform": [-6, -1]}, "--batch": {"choice": [32, 64]}},
   "policy": {"bandit": {"evaluation_interval": 2, "slack_factor": 0.1}},
   "primary_metric_name": "Accuracy", "max_total_runs": 20, "max_concurrent_runs": 4}
\b
Examples:
  runyard tune submit sweep.json -e demo
  runyard tune submit sweep.yaml --wait
  runyard tune show RUN_ID --top 5"""


@click.group()
def tune() -> None:
    """Submit, inspect, resume and cancel hyperparameter sweeps (HyperDrive runs)."""


def _open(state: CliState, run_id: str) -> HyperDriveRun:
    from runyard.core.experiment import Experiment
    from runyard.train.hyperdrive.run import HyperDriveRun

    ws = state.workspace()
    record = ws.resources.store.get_run(run_id)
    return HyperDriveRun(Experiment(ws, record.experiment_name), run_id)


@tune.command(epilog=_SUBMIT_EPILOG)
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-e", "--experiment", "experiment_name", metavar="NAME", help="Experiment (else the spec's)."
)
@click.option(
    "--wait/--no-wait",
    default=False,
    show_default=True,
    help="Stream the tuning log until the sweep ends (exit 1 unless it Completed).",
)
@json_option
@pass_state
def submit(state: CliState, spec: str, experiment_name: str | None, wait: bool) -> None:
    """Submit the sweep SPEC describes and print its run id.

    The sweep's controller runs detached: it goes on after this command returns. Follow it
    with --wait, 'runyard tune show RUN_ID' or 'runyard run logs RUN_ID'.

    JSON: {"runId", "experiment", "status"} (with --wait: the final status and best run).
    """
    from runyard.core.experiment import Experiment
    from runyard.entities.validation import check_entity_name
    from runyard.train.hyperdrive.spec_file import config_from_spec, load_spec

    data = load_spec(spec)
    name = experiment_name or data.get("experiment")
    if not name:
        raise click.UsageError("Give the experiment: --experiment NAME, or 'experiment' in SPEC.")
    check_entity_name("Experiment", str(name))
    config = config_from_spec(data, os.path.dirname(os.path.abspath(spec)))
    ws = state.workspace()
    submitted = Experiment(ws, str(name)).submit(config)
    hdr = _open(state, submitted.id)
    out = state.output
    if not wait:
        if out.json_output:
            out.json({"runId": hdr.id, "experiment": name, "status": hdr.get_status()})
        else:
            out.line(hdr.id)
            out.note(f"Follow it with: runyard tune show {hdr.id}")
        return
    out.note(f"Submitted HyperDrive run {hdr.id}")
    try:
        hdr.wait_for_completion(show_output=True, raise_on_error=False, out=sys.stderr)
    except KeyboardInterrupt:
        click.echo(
            f"\nStopped following {hdr.id}; it goes on. Cancel it with: runyard tune cancel "
            f"{hdr.id}",
            err=True,
        )
        raise click.exceptions.Exit(130) from None
    status = hdr.get_status()
    best = hdr.get_best_run_by_primary_metric()
    if out.json_output:
        out.json(
            {
                "runId": hdr.id,
                "experiment": name,
                "status": status,
                "bestRunId": best.id if best else None,
            }
        )
    if status != "Completed":
        raise CommandFailed(f"HyperDrive run {hdr.id} ended {status}.")


@tune.command()
@click.argument("run_id")
@click.option("--top", default=0, show_default=True, help="Show this many children (0: all).")
@json_option
@pass_state
def show(state: CliState, run_id: str, top: int) -> None:
    """Show a sweep and its children, best primary metric first.

    JSON: {"runId", "status", "primaryMetric", "goal", "endReason", "children": [{"run_id",
    "hyperparameters", "best_primary_metric", "status"}]}.
    """
    hdr = _open(state, run_id)
    study = hdr.get_study_state()
    spec = study.spec
    children = hdr.get_children_sorted_by_primary_metric(top=top)
    status = hdr.get_status()
    out = state.output
    if out.json_output:
        out.json(
            {
                "runId": hdr.id,
                "status": status,
                "primaryMetric": spec.primary_metric_name,
                "goal": spec.goal.value,
                "maxTotalRuns": spec.max_total_runs,
                "endReason": study.end_reason,
                "children": children,
            }
        )
        return
    out.fields(
        [
            ("Run", hdr.id),
            ("Status", status),
            ("Primary metric", f"{spec.primary_metric_name} ({spec.goal.value})"),
            ("Children", f"{len(study.trials)} of at most {spec.max_total_runs}"),
            ("Ended", study.end_reason or "-"),
        ]
    )
    out.table(
        ["Child run", "Status", spec.primary_metric_name, "Hyperparameters"],
        [_row(c) for c in children],
        empty="No children yet.",
    )


def _row(child: dict[str, Any]) -> list[Any]:
    value = child["best_primary_metric"]
    return [
        child["run_id"],
        child["status"],
        "-" if value is None else f"{value:.6g}",
        child["hyperparameters"] or "-",
    ]


@tune.command()
@click.argument("run_id")
@pass_state
def resume(state: CliState, run_id: str) -> None:
    """Start a sweep's controller again when it is gone (killed, machine restarted); it
    carries on where it stopped."""
    hdr = _open(state, run_id)
    if hdr.resume():
        state.output.note(f"Started a new controller for {run_id}.")
    else:
        state.output.note(f"{run_id} is {hdr.get_status()} and its controller is alive or done.")


@tune.command()
@click.argument("run_id")
@pass_state
def cancel(state: CliState, run_id: str) -> None:
    """Cancel a sweep and every child run."""
    hdr = _open(state, run_id)
    hdr.cancel()
    state.output.note(f"HyperDrive run {run_id} is {hdr.get_status()}.")

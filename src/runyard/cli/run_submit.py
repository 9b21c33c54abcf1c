"""``runyard run submit`` and ``runyard run logs``: start a run, follow its output."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from runyard.artifacts.layout import DRIVER_LOG
from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.errors import EXIT_INTERRUPTED, CommandFailed
from runyard.cli.logs import follow_run, read_log
from runyard.cli.parsing import parse_pairs
from runyard.entities.run import TERMINAL_STATUSES
from runyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.core.environment import Environment

TERMINAL_STATUS_NAMES = frozenset(s.value for s in TERMINAL_STATUSES)

_SUBMIT_EPILOG = """\b
Examples:
  runyard run submit --experiment demo train.py --epochs 3 --lr 0.01
  runyard run submit -e keras-mnist --pip keras --pip tensorflow \\
      --source-dir ./keras-mnist keras_mnist.py --batch-size 50
  runyard run submit -e demo --target cpu-cluster --wait train.py
  RUN_ID=$(runyard run submit -e demo train.py) && runyard run logs "$RUN_ID" --follow

Runyard's options go before SCRIPT: everything after it is passed to the script."""


@click.command(
    context_settings={"allow_interspersed_args": False},
    epilog=_SUBMIT_EPILOG,
)
@click.argument("script")
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED, metavar="[ARGS]...")
@click.option(
    "-e", "--experiment", "experiment_name", metavar="NAME", help="Experiment (required)."
)
@click.option(
    "-t",
    "--target",
    metavar="NAME",
    default="local",
    show_default=True,
    help="Compute target to run on ('runyard compute list').",
)
@click.option(
    "--pip",
    "pip_packages",
    multiple=True,
    metavar="PKG",
    help="A pip requirement to install (repeat). Without any, the script runs in this "
    "Python interpreter as it is.",
)
@click.option(
    "--source-dir",
    type=click.Path(exists=True, file_okay=False),
    default=".",
    show_default=True,
    help="Folder snapshotted with the run; SCRIPT is inside it.",
)
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag the run (repeat).")
@click.option(
    "--wait/--no-wait",
    default=False,
    show_default=True,
    help="Stream the run's output until it ends (exit 1 if it fails).",
)
@json_option
@pass_state
def submit(
    state: CliState,
    script: str,
    script_args: tuple[str, ...],
    experiment_name: str | None,
    target: str,
    pip_packages: tuple[str, ...],
    source_dir: str,
    tags: tuple[str, ...],
    wait: bool,
) -> None:
    """Submit SCRIPT [ARGS]... as a run and print its id.

    The source folder is snapshotted, the environment built (or taken from cache) and the
    script run on the target; the run goes on after this command returns. With --wait, its
    output is streamed here as 'runyard run logs RUN_ID --follow' does.

    JSON: {"runId", "experiment", "status"} (with --wait: the final status).
    """
    if experiment_name is None:
        hint = (
            " Runyard's options go before SCRIPT: everything after it is passed to the script."
            if {"-e", "--experiment"} & set(script_args)
            else ""
        )
        raise click.UsageError(f"Missing option '--experiment' / '-e'.{hint}")
    from runyard.core.experiment import Experiment
    from runyard.core.script_run_config import ScriptRunConfig
    from runyard.entities.validation import check_entity_name

    # First: the environment's name is made from it, and would be the one blamed.
    check_entity_name("Experiment", experiment_name)
    run_tags = parse_pairs(tags, "--tag")
    config = ScriptRunConfig(
        source_directory=source_dir,
        script=_script_in(source_dir, script),
        arguments=list(script_args),
        compute_target=target,
        environment=_environment(experiment_name, pip_packages),
    )
    ws = state.workspace()
    run_obj = Experiment(ws, experiment_name).submit(config, tags=run_tags or None)
    out = state.output
    if not wait:
        if out.json_output:
            out.json({"runId": run_obj.id, "experiment": experiment_name, "status": run_obj.status})
        else:
            out.line(run_obj.id)
            out.note(f"Follow it with: runyard run logs {run_obj.id} --follow")
        return
    out.note(f"Submitted run {run_obj.id}")
    status = _follow(run_obj, echo_output=not out.json_output)
    _finish(state, run_obj, status, json_summary=out.json_output)


def _script_in(source_dir: str, script: str) -> str:
    """SCRIPT relative to the source folder: looked up there first, then from here.

    Raises:
        NotFound: no such file.
        InvalidArgument: the file is outside the source folder (it would not be snapshotted).
    """
    source = os.path.abspath(source_dir)
    for candidate in (os.path.join(source, script), os.path.abspath(script)):
        if os.path.isfile(candidate):
            rel = os.path.relpath(candidate, source)
            if rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
                raise InvalidArgument(
                    f"Script {script!r} is outside the source folder {source_dir!r}, so it "
                    "would not be part of the run's snapshot; pass --source-dir with a folder "
                    "that holds it."
                )
            return rel.replace(os.sep, "/")
    raise NotFound(
        f"Script {script!r} not found in the source folder {source} (nor from the current "
        "folder). Check the name, or pass --source-dir."
    )


def _environment(experiment_name: str, pip_packages: tuple[str, ...]) -> Environment:
    """An environment with the --pip packages, or this interpreter as it is."""
    from runyard.core.conda_dependencies import CondaDependencies
    from runyard.core.environment import Environment

    # Names are at most 255 characters; the experiment's may already be that long.
    env = Environment(f"{experiment_name[:200]}-cli")
    if pip_packages:
        env.python.conda_dependencies = CondaDependencies.create(pip_packages=list(pip_packages))
    else:
        # Nothing to install: run where `runyard` itself runs, as SDK users do with
        # user_managed_dependencies, so a submit costs no environment build.
        env.python.user_managed_dependencies = True
        env.python.interpreter_path = sys.executable
    return env


def _follow(run_obj: Any, *, echo_output: bool) -> str:
    """Follow the run; Ctrl-C stops following (exit 130) and leaves the run running."""
    try:
        return follow_run(run_obj, echo_output=echo_output)
    except KeyboardInterrupt:
        click.echo(
            f"\nStopped following run {run_obj.id}; it goes on ({run_obj.get_status()}). "
            f"Cancel it with: runyard run cancel {run_obj.id}",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _finish(state: CliState, run_obj: Any, status: str, *, json_summary: bool) -> None:
    """Report a followed run's end; Failed or Canceled exit non-zero."""
    out = state.output
    if json_summary:
        out.json({"runId": run_obj.id, "experiment": run_obj.experiment.name, "status": status})
    if status == "Failed":
        error = run_obj.get_details().get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise CommandFailed(f"Run {run_obj.id} failed: {message or 'no error recorded'}")
    if status == "Canceled":
        raise CommandFailed(f"Run {run_obj.id} was canceled.")
    if not json_summary:
        out.note(f"Run {run_obj.id} {status}.")


@click.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard run logs RUN_ID             # the driver log so far\n"
        "  runyard run logs RUN_ID --follow    # until the run ends; exit 1 if it fails"
    )
)
@click.argument("run_id")
@click.option(
    "-f",
    "--follow",
    is_flag=True,
    help="Keep printing new output until the run ends; exit 1 if it failed or was canceled.",
)
@pass_state
def logs(state: CliState, run_id: str, follow: bool) -> None:
    """Print a run's output (runyard-logs/driver.txt: the script's stdout and stderr).

    Status changes go to stderr, so stdout holds the log only.
    """
    from runyard.core.run import Run

    run_obj = Run.get(state.workspace(), run_id)
    if follow:
        # The log is the output here, so no JSON summary even under a global --json.
        _finish(state, run_obj, _follow(run_obj, echo_output=True), json_summary=False)
        return
    data = read_log(run_obj)
    if data is None:
        status = run_obj.get_status()
        if status in TERMINAL_STATUS_NAMES:
            # Nothing more will come: waiting with --follow would not help.
            raise NotFound(
                f"Run {run_id} ended ({status}) without a {DRIVER_LOG}: interactive runs have "
                "none, and a submitted run that ended before its script started writes none. "
                f"'runyard run show {run_id}' shows its details and error."
            )
        raise NotFound(
            f"Run {run_id} has no {DRIVER_LOG} yet (status {status}); use --follow to wait "
            "for it. Interactive runs have no driver log."
        )
    click.echo(data.decode("utf-8", errors="replace"), nl=False)

"""The ``runyard`` command: global options, the command groups, and how it ends.

Commands live in one module per noun (workspace, experiment, run, model, compute). They
import the SDK inside their bodies, so ``runyard --help`` loads neither SQLAlchemy nor rich.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from runyard import __version__
from runyard.cli.compute import compute
from runyard.cli.context import CliState
from runyard.cli.errors import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    exit_code_for,
    print_error,
)
from runyard.cli.experiment import experiment
from runyard.cli.login import login, logout
from runyard.cli.model import model
from runyard.cli.run import run
from runyard.cli.server import server
from runyard.cli.service import service
from runyard.cli.token import token
from runyard.cli.tune import tune
from runyard.cli.ui import ui
from runyard.cli.user import member, user
from runyard.cli.workspace import workspace
from runyard.errors import RunyardError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class RunyardGroup(click.Group):
    """The root group: turns every error into one line on stderr and an exit code.

    ``main`` is overridden (rather than wrapping it in :func:`main`) so that
    ``click.testing.CliRunner`` goes through exactly the same path as the console script.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        state = extra.setdefault("obj", CliState())
        code = EXIT_OK
        try:
            result = super().main(
                args, prog_name or "runyard", complete_var, standalone_mode=False, **extra
            )
            # With standalone_mode=False click returns --help/--version/ctx.exit() codes.
            code = result if isinstance(result, int) else EXIT_OK
        except click.exceptions.NoArgsIsHelpError as exc:
            # Bare `runyard` (or `runyard run`) asks what there is: the help, as --help
            # prints it, not squeezed onto one Error: line.
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            code = EXIT_OK
        except click.UsageError as exc:
            message = exc.format_message().rstrip()
            if not message.endswith("."):
                message += "."
            if exc.ctx is not None:
                message += f" See '{exc.ctx.command_path} --help'."
            print_error(message)
            code = EXIT_USAGE
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except click.Abort:
            print_error("Interrupted.")
            code = EXIT_INTERRUPTED
        except RunyardError as exc:
            if state.debug:
                raise
            print_error(str(exc))
            code = exit_code_for(exc)
        except Exception as exc:
            if state.debug:
                raise
            print_error(
                f"Unexpected {type(exc).__name__}: {exc}. "
                "Rerun with --debug to see the traceback, and please report it."
            )
            code = EXIT_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(
    "runyard",
    cls=RunyardGroup,
    context_settings=CONTEXT_SETTINGS,
    epilog=(
        "\b\nExamples:\n"
        "  runyard workspace create demo --path ./demo-ws\n"
        "  runyard run list --experiment keras-mnist --status Completed\n"
        "  runyard run submit --experiment keras-mnist train.py --epochs 3\n"
        "  runyard run logs RUN_ID --follow\n"
        "  runyard model list --latest --json\n\n" + EXIT_CODES_HELP
    ),
)
@click.option(
    "-w",
    "--workspace",
    "workspace_path",
    metavar="PATH",
    help="A config.json file, or a folder to look for one in. Default: the current folder "
    "and its parents (also .runyard/, .azureml/, aml_config/), as Workspace.from_config().",
)
@click.option("--json", "json_output", is_flag=True, help="Print JSON instead of tables.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, "-V", "--version", prog_name="runyard")
@click.pass_context
def cli(ctx: click.Context, workspace_path: str | None, json_output: bool, debug: bool) -> None:
    """Runyard: track, train, tune and register ML models on your own machines.

    Works on the workspace that config.json describes (see --workspace). Listing and show
    commands print tables, or JSON with --json (before or after the command).
    """
    state = ctx.ensure_object(CliState)
    state.workspace_path = workspace_path
    state.json_output = state.json_output or json_output
    state.debug = debug


cli.add_command(workspace)
cli.add_command(experiment)
cli.add_command(run)
cli.add_command(model)
cli.add_command(compute)
cli.add_command(service)
cli.add_command(server)
cli.add_command(tune)
cli.add_command(login)
cli.add_command(logout)
cli.add_command(token)
cli.add_command(user)
cli.add_command(member)
cli.add_command(ui)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script ``runyard``: runs the command and exits with its code."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="runyard")


if __name__ == "__main__":
    main()

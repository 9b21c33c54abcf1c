"""How the command line ends: exit codes, and every error as one line on stderr.

Exit codes (documented in ``runyard --help`` and docs/cli.md):

====  ==================================================================================
0     success
1     an error (already exists, invalid state, backend failure...), or the run that
      ``run logs --follow`` / ``run submit --wait`` followed failed or was canceled
2     bad usage: an unknown option, a missing argument, an invalid value (InvalidArgument)
3     something named does not exist: a run, a model, a compute target, the workspace
      config (NotFound)
130   interrupted (Ctrl-C)
====  ==================================================================================
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping

import click

from runyard.cli.output import escape_control
from runyard.errors import InvalidArgument, NotFound, RunyardError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 error (or the followed run failed); 2 bad usage or invalid "
    "value; 3 not found (run, model, target, workspace config); 130 interrupted."
)


def exit_code_for(error: RunyardError) -> int:
    """The exit code for a Runyard error."""
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, InvalidArgument):
        return EXIT_USAGE
    return EXIT_ERROR


def one_line(message: str) -> str:
    """A message on one line: its lines joined, runs of spaces collapsed."""
    return " ".join(message.split())


def print_error(message: str) -> None:
    """``Error: <message>`` on stderr, on one line (red when stderr is a terminal), its
    control characters escaped (the message may quote any user value)."""
    text = escape_control(one_line(message))
    click.echo(click.style("Error:", fg="red", bold=True) + " " + text, err=True)


@contextlib.contextmanager
def cli_wording(replacements: Mapping[str, str]) -> Iterator[None]:
    """Say the command's flags where a Runyard error raised inside names SDK arguments.

    The SDK's messages advise in Python (``pass exist_ok=True``); a command that maps a
    flag onto that argument declares the wording once, and its errors say ``--exist-ok``.

    Args:
        replacements: SDK phrase -> the command's phrase, applied in order.

    Raises:
        RunyardError: the error raised inside, of the same class, reworded.
    """
    try:
        yield
    except RunyardError as exc:
        message = exc.message
        for sdk, cli in replacements.items():
            message = message.replace(sdk, cli)
        if message == exc.message:
            raise
        reworded = copy.copy(exc)
        reworded.message = message
        reworded.args = (message,)
        raise reworded from exc


class CommandFailed(click.ClickException):
    """The command could not do what was asked, for a reason that is not a Runyard error
    (the followed run failed, a deletion was not confirmed): one line, exit code 1."""

    exit_code = EXIT_ERROR

    def show(self, file: object = None) -> None:
        print_error(self.message)

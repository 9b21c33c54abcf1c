"""Driving the ``runyard`` command line in-process, the way the CLI tests all do."""

from __future__ import annotations

from click.testing import CliRunner, Result

from runyard.cli.main import cli


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``runyard ARGS...`` in this process; stdout and stderr stay apart."""
    return CliRunner().invoke(cli, list(args), input=input)


def one_error_line(result: Result, code: int | None = None, *, alone: bool = True) -> str:
    """The one ``Error: ...`` line a failed command printed, with no traceback.

    Args:
        result: what :func:`invoke` gave.
        code: the exit code it must have ended with (None: any).
        alone: stderr holds nothing but that line (False: warnings may come before it).
    """
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert not alone or len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]

"""What every command shares: the global options and the workspace they select.

One :class:`CliState` is made per invocation and passed down as click's ``obj``; the
workspace is opened on first use and closed when the command ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runyard.cli.output import Output

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    """Global options of one ``runyard`` invocation.

    Attributes:
        workspace_path: ``--workspace``: a config.json file or a folder to search.
        json_output: ``--json``: print JSON instead of tables.
        debug: ``--debug``: show tracebacks instead of one-line errors.
    """

    workspace_path: str | None = None
    json_output: bool = False
    debug: bool = False
    _workspace: Workspace | None = field(default=None, repr=False)
    _config_file: str | None = field(default=None, repr=False)

    @property
    def output(self) -> Output:
        return Output(json_output=self.json_output)

    @property
    def config_file(self) -> str:
        """The config.json the workspace was opened from (opens it if needed)."""
        self.workspace()
        assert self._config_file is not None
        return self._config_file

    def workspace(self) -> Workspace:
        """The workspace ``--workspace`` names, or the one ``config.json`` found from the
        current folder names (as ``Workspace.from_config()`` searches).

        Raises:
            NotFound: no config.json; the message says where it looked and how to make one.
        """
        if self._workspace is None:
            from runyard.config import find_config_file
            from runyard.core.workspace import Workspace
            from runyard.errors import NotFound

            try:
                file = find_config_file(self.workspace_path)
            except NotFound:
                where = (
                    repr(self.workspace_path)
                    if self.workspace_path
                    else f"{os.getcwd()} or its parent folders"
                )
                raise NotFound(
                    f"No workspace config.json found in {where} (looked for config.json, "
                    ".runyard/config.json, .azureml/config.json, aml_config/config.json). "
                    "Create a workspace with 'runyard workspace create NAME' or pass "
                    "--workspace PATH."
                ) from None
            self._workspace = Workspace.from_config(file)
            self._config_file = os.path.abspath(file)
            ctx = click.get_current_context(silent=True)
            if ctx is not None:
                # Flush buffered writes and release the database when the command ends.
                ctx.find_root().call_on_close(self.close)
        return self._workspace

    def close(self) -> None:
        """Close the workspace, if it was opened."""
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


pass_state = click.make_pass_decorator(CliState, ensure=True)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(CliState).json_output = True
    return value


def json_option(func: F) -> F:
    """``--json`` on a command (it may also be given before the command, globally)."""
    decorated: F = click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print the result as JSON (stable keys).",
    )(func)
    return decorated

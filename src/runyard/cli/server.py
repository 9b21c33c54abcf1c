"""``runyard server start``: serve a workspace to a team over HTTP."""

from __future__ import annotations

import click

from runyard.cli.context import CliState, pass_state


@click.group()
def server() -> None:
    """Run the team server: one REST API over a workspace's run history and files."""


@server.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard server start --workspace ./team-ws\n"
        "  runyard server start --config team.json --port 9000 --workers 4"
    )
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="A workspace config.json to serve (default: the --workspace folder or config, or "
    "the config found from the current folder).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option("--port", type=int, default=None, help="The TCP port (default 8765).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@pass_state
def start(
    state: CliState, config_file: str | None, host: str, port: int | None, workers: int
) -> None:
    """Serve the workspace until interrupted (Ctrl+C or SIGTERM stop it gracefully).

    The workspace's database is migrated to the current schema before the first request.
    """
    from runyard.config import WorkspaceConfig, load_workspace_config
    from runyard.server.serve import serve
    from runyard.server.settings import DEFAULT_PORT, ServerSettings

    config = (
        WorkspaceConfig.load(config_file)
        if config_file
        else load_workspace_config(state.workspace_path)
    )
    settings = ServerSettings(
        workspace=config, host=host, port=DEFAULT_PORT if port is None else port, workers=workers
    )
    click.echo(f"Serving workspace {config.workspace_name!r} on http://{host}:{settings.port}")
    serve(settings)

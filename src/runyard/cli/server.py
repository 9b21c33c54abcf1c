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
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="The folder for workspaces created through the API (default: $RUNYARD_HOME/server, "
    "i.e. ~/.runyard/server).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option("--port", type=int, default=None, help="The TCP port (default 8765).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option(
    "--max-body-mb",
    type=float,
    default=32.0,
    show_default=True,
    help="The largest request body, in MB: a file upload's chunk, an append, a JSON body.",
)
@pass_state
def start(
    state: CliState,
    config_file: str | None,
    home: str | None,
    host: str,
    port: int | None,
    workers: int,
    max_body_mb: float,
) -> None:
    """Serve workspaces until interrupted (Ctrl+C or SIGTERM stop it gracefully).

    Serves the workspace that --workspace or --config names (or the config found from the
    current folder, if any) and the workspaces in --home. Databases are migrated to the
    current schema before the first request.
    """
    import os

    from runyard.config import WorkspaceConfig, load_workspace_config
    from runyard.errors import NotFound
    from runyard.server.serve import serve
    from runyard.server.settings import DEFAULT_PORT, ServerSettings
    from runyard.settings import Settings

    config: WorkspaceConfig | None
    if config_file:
        config = WorkspaceConfig.load(config_file)
    else:
        try:
            config = load_workspace_config(state.workspace_path)
        except NotFound:
            if state.workspace_path:
                raise
            config = None  # no config here: serve the home folder's workspaces
    settings = ServerSettings(
        workspace=config,
        home=home or os.path.join(Settings.from_env().home_dir, "server"),
        host=host,
        port=DEFAULT_PORT if port is None else port,
        workers=workers,
        max_body_mb=max_body_mb,
    )
    served = f"workspace {config.workspace_name!r} and " if config else ""
    click.echo(
        f"Serving {served}the workspaces in {settings.home} on http://{host}:{settings.port}"
    )
    serve(settings)

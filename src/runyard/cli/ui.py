"""``runyard ui``: look at a workspace's runs in the browser with one command."""

from __future__ import annotations

import os

import click

from runyard.cli.context import CliState, pass_state


def ui_url(base: str, workspace: str) -> str:
    """The address of a workspace's pages on the server at ``base``."""
    from urllib.parse import quote

    return f"{base.rstrip('/')}/w/{quote(workspace, safe='')}"


@click.command(
    epilog=("\b\nExamples:\n  runyard ui\n  runyard -w ./my-workspace ui --port 8800 --no-browser")
)
@click.option("--port", type=int, default=None, help="The TCP port (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the link only; open no browser.")
@pass_state
def ui(state: CliState, port: int | None, no_browser: bool) -> None:
    """Open the web UI of the workspace (runs, charts, logs, files, models).

    For an embedded workspace, starts a server on 127.0.0.1 (only this machine can reach
    it) until interrupted, prints the link and opens it in a browser where there is one.
    For a server workspace, prints its server's link and opens it.
    """
    import socket
    import threading
    import webbrowser

    from runyard.config import load_workspace_config
    from runyard.settings import Settings

    config = load_workspace_config(state.workspace_path)
    if config.server:
        url = ui_url(config.server, config.workspace_name)
        click.echo(f"The web UI of workspace {config.workspace_name!r}: {url}")
        if not no_browser:
            webbrowser.open(url)
        return

    from runyard.server.serve import serve
    from runyard.server.settings import ServerSettings

    if port is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
    settings = ServerSettings(
        workspace=config,
        home=os.path.join(Settings.from_env().home_dir, "ui"),
        host="127.0.0.1",
        port=port,
    )
    token, token_id = one_time_login(settings.home)
    base = ui_url(f"http://127.0.0.1:{port}", config.workspace_name)
    url = f"{base}#login={token}&id={token_id}"

    def announce() -> None:  # once the server answers, so the link works when printed
        import time

        import httpx

        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        click.echo(
            f"Runyard web UI for {config.workspace_name!r} (Ctrl+C stops it). Open this link "
            f"once, within 10 minutes; it signs the browser in:\n  {url}"
        )
        if not no_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    serve(settings)


#: How long the link ``runyard ui`` prints stays usable.
LINK_LIFETIME_S = 600.0


def one_time_login(home: str) -> tuple[str, str]:
    """A short-lived token (and its id) of this machine's UI administrator, for the link
    ``runyard ui`` prints: the page trades it for a session token and revokes it.

    The administrator (the current user's login name, or ``local``) is made on first use
    in the identity store of ``home``, a folder only this user reads.
    """
    import getpass
    import re

    from runyard.server.identity import open_identity_store

    os.makedirs(home, mode=0o700, exist_ok=True)
    store = open_identity_store(home)
    try:
        admins = [user.name for user in store.list_users() if user.admin and not user.disabled]
        if admins:
            name = admins[0]
        else:
            try:
                login = re.sub(r"[^A-Za-z0-9_-]", "-", getpass.getuser()).strip("-")
            except (KeyError, OSError):
                login = ""
            name = login or "local"
            # Its own token is not needed (the link's is made below): let it lapse soon.
            store.init_admin(name, expires_in_s=LINK_LIFETIME_S)
        issued = store.create_token(name, "runyard ui link", expires_in_s=LINK_LIFETIME_S)
        return issued.secret, issued.info.id
    finally:
        store.close()

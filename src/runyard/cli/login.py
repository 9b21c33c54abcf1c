"""``runyard login`` and ``runyard logout``: the user's token for a team server, kept in
``~/.runyard/credentials.json`` (mode 0600)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runyard.cli.context import CliState, pass_state
from runyard.errors import InvalidArgument, Unauthorized

if TYPE_CHECKING:
    from runyard.tracking.rest.client import ApiClient

F = TypeVar("F", bound=Callable[..., Any])


def server_option(func: F) -> F:
    """``--server URL`` on a command (default: the server the workspace config names)."""
    decorated: F = click.option(
        "--server",
        metavar="URL",
        help="The team server (default: the 'server' of the workspace's config.json).",
    )(func)
    return decorated


def resolve_server(state: CliState, server: str | None) -> str:
    """The server a command talks to: ``--server``, else the workspace config's.

    Raises:
        InvalidArgument: neither names one.
    """
    from runyard.config import load_workspace_config
    from runyard.credentials import server_key
    from runyard.errors import NotFound

    if server:
        return server_key(server)
    try:
        config = load_workspace_config(state.workspace_path)
    except NotFound:
        config = None
    if config is None or not config.server:
        raise InvalidArgument(
            "Which server? Give --server URL, or run this where the workspace's config.json "
            "names a 'server'."
        )
    return server_key(config.server)


def server_client(server: str) -> ApiClient:
    """An API client for ``server`` with the caller's token (RUNYARD_TOKEN or the stored one).

    Raises:
        Unauthorized: no token for that server.
    """
    from runyard.credentials import find_token
    from runyard.settings import Settings
    from runyard.tracking.rest.client import ApiClient

    token = find_token(server, Settings.from_env())
    if not token:
        raise Unauthorized(
            f"No token for {server}: log in with 'runyard login --server {server}', or set "
            "RUNYARD_TOKEN."
        )
    return ApiClient(server, token=token)


@click.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard login --server http://127.0.0.1:8765 < alice.token\n"
        "  runyard login --server https://runyard.example.com   (asks for the token)"
    )
)
@click.option("--server", required=True, metavar="URL", help="The team server's URL.")
@click.option(
    "--token",
    metavar="TOKEN",
    help="The token (it then shows in your shell's history: prefer standard input or the prompt).",
)
@pass_state
def login(state: CliState, server: str, token: str | None) -> None:
    """Check a token with the server and store it for that server.

    The token is read from --token, else from standard input when it is not a terminal,
    else from a hidden prompt. It is stored in credentials.json in the Runyard home folder
    (RUNYARD_HOME, default ~/.runyard), readable only by you; RUNYARD_TOKEN, when set,
    takes precedence over it.
    """
    from runyard.credentials import ServerLogin, save_login, server_key
    from runyard.settings import Settings
    from runyard.tracking.rest.client import ApiClient

    url = server_key(server)
    if token is None:
        if sys.stdin.isatty():
            token = click.prompt("Token", hide_input=True, err=True)
        else:
            token = sys.stdin.readline()
    token = (token or "").strip()
    if not token:
        raise InvalidArgument(
            "No token given: pass it on standard input, at the prompt or with --token."
        )
    client = ApiClient(url, token=token)
    try:
        me = client.request("GET", "/me").json()
    finally:
        client.close()
    path = save_login(ServerLogin(url, token, me["user"]), Settings.from_env())
    role = " (server administrator)" if me.get("admin") else ""
    state.output.note(f"Logged in to {url} as {me['user']}{role}. Token stored in {path}.")


@click.command()
@click.option("--server", required=True, metavar="URL", help="The team server's URL.")
@pass_state
def logout(state: CliState, server: str) -> None:
    """Forget the token stored for a server (it stays valid: revoke it with
    'runyard token revoke' to end it)."""
    from runyard.credentials import forget_login, server_key
    from runyard.settings import Settings

    url = server_key(server)
    if forget_login(url, Settings.from_env()):
        state.output.note(f"Forgot the token for {url}.")
    else:
        state.output.note(f"No token was stored for {url}.")

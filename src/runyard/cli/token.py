"""``runyard token create|list|revoke``: API tokens on a team server."""

from __future__ import annotations

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.login import resolve_server, server_client, server_option
from runyard.cli.output import format_time


@click.group()
def token() -> None:
    """Create, list and revoke API tokens on a team server."""


@token.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard token create ci --expires-days 30 > ci.token\n"
        "  runyard token create first --user bob --server http://127.0.0.1:8765   (admins)"
    )
)
@click.argument("name")
@click.option(
    "--expires-days",
    type=click.FloatRange(min=0, min_open=True),
    default=90.0,
    show_default=True,
    help="Days until the token stops working.",
)
@click.option("--no-expiry", is_flag=True, help="A token that never expires.")
@click.option("--user", help="Create it for another user (server administrators only).")
@server_option
@json_option
@pass_state
def create(
    state: CliState,
    name: str,
    expires_days: float,
    no_expiry: bool,
    user: str | None,
    server: str | None,
) -> None:
    """Create a token called NAME and print it, once (on standard output, alone)."""
    url = resolve_server(state, server)
    body = {"name": name, "expires_days": None if no_expiry else expires_days, "user": user}
    client = server_client(url)
    try:
        created = client.request("POST", "/tokens", json=body).json()
    finally:
        client.close()
    if state.output.json_output:
        state.output.json(created)
        return
    expiry = format_time(created["expires_at"]) if created["expires_at"] else "never"
    state.output.note(
        f"Token {created['name']!r} ({created['id']}) for {created['user']}, expires {expiry}. "
        "It follows, shown only this once:"
    )
    click.echo(created["token"])


@token.command("list")
@click.option("--user", help="Another user's tokens (server administrators only).")
@server_option
@json_option
@pass_state
def list_(state: CliState, user: str | None, server: str | None) -> None:
    """List your tokens (never their secrets)."""
    import time

    client = server_client(resolve_server(state, server))
    try:
        tokens = client.request("GET", "/tokens", params={"user": user} if user else None)
    finally:
        client.close()
    found = tokens.json()["tokens"]
    if state.output.json_output:
        state.output.json(found)
        return
    now = time.time()

    def status(t: dict[str, object]) -> str:
        expires = t["expires_at"]
        if t["revoked"]:
            return "revoked"
        if isinstance(expires, float) and expires <= now:
            return "expired"
        return "active"

    state.output.table(
        ["ID", "NAME", "CREATED", "EXPIRES", "STATUS"],
        [
            [
                t["id"],
                t["name"],
                format_time(t["created_at"]),
                format_time(t["expires_at"]) if t["expires_at"] else "never",
                status(t),
            ]
            for t in found
        ],
        empty="No tokens.",
    )


@token.command()
@click.argument("token_id", metavar="ID")
@server_option
@json_option
@pass_state
def revoke(state: CliState, token_id: str, server: str | None) -> None:
    """Revoke the token with this ID (see 'runyard token list'); it stops working at once."""
    client = server_client(resolve_server(state, server))
    try:
        revoked = client.request("DELETE", f"/tokens/{token_id}").json()
    finally:
        client.close()
    if state.output.json_output:
        state.output.json(revoked)
    else:
        state.output.note(f"Revoked token {revoked['name']!r} ({revoked['id']}).")

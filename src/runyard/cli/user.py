"""``runyard user create|list|disable|enable``: a team server's users (administrators),
and ``runyard member add|list|remove``: who has which role in a workspace (its owners)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.login import resolve_server, server_client, server_option
from runyard.cli.output import format_time
from runyard.errors import InvalidArgument

#: The roles a member may hold in a workspace (server administrators are users).
MEMBER_ROLES = ("reader", "contributor", "owner")


@click.group()
def user() -> None:
    """Add, list, disable and enable the users of a team server (administrators only)."""


@user.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard user create bob\n"
        "  runyard token create first --user bob > bob.token   (his first token)\n"
        "  runyard member add bob --role contributor"
    )
)
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make them a server administrator.")
@server_option
@json_option
@pass_state
def create(state: CliState, name: str, admin: bool, server: str | None) -> None:
    """Add user NAME (no password: they act with tokens an administrator creates for them,
    'runyard token create NAME --user USER')."""
    created = _call(state, server, "POST", "/users", json={"name": name, "admin": admin})
    if state.output.json_output:
        state.output.json(created)
        return
    kind = "administrator" if created["admin"] else "user"
    state.output.note(
        f"Added {kind} {created['name']!r}. Give them a token: "
        f"runyard token create first --user {created['name']}"
    )


@user.command("list")
@server_option
@json_option
@pass_state
def list_(state: CliState, server: str | None) -> None:
    """List the server's users."""
    users = _call(state, server, "GET", "/users")["users"]
    if state.output.json_output:
        state.output.json(users)
        return
    state.output.table(
        ["NAME", "ADMIN", "STATUS", "CREATED"],
        [
            [
                u["name"],
                "yes" if u["admin"] else "",
                "disabled" if u["disabled"] else "active",
                format_time(u["created_at"]),
            ]
            for u in users
        ],
        empty="No users.",
    )


@user.command()
@click.argument("name")
@server_option
@json_option
@pass_state
def disable(state: CliState, name: str, server: str | None) -> None:
    """Disable user NAME: their tokens (and their runs' tokens) stop working at once."""
    _set_disabled(state, name, server, True)


@user.command()
@click.argument("name")
@server_option
@json_option
@pass_state
def enable(state: CliState, name: str, server: str | None) -> None:
    """Enable user NAME again (their tokens that have not expired work again)."""
    _set_disabled(state, name, server, False)


def _set_disabled(state: CliState, name: str, server: str | None, disabled: bool) -> None:
    updated = _call(
        state, server, "PATCH", f"/users/{quote(name, safe='')}", json={"disabled": disabled}
    )
    if state.output.json_output:
        state.output.json(updated)
    else:
        state.output.note(f"User {name!r} is {'disabled' if disabled else 'enabled'}.")


@click.group()
def member() -> None:
    """Give users roles in a team server's workspace, list and remove them (owners)."""


def _workspace_option(func: Any) -> Any:
    return click.option(
        "--workspace-name",
        "workspace_name",
        metavar="NAME",
        help="The workspace on the server (default: the one the workspace's config.json names).",
    )(func)


@member.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard member add bob --role contributor\n"
        "  runyard member add rita --role reader --workspace-name team "
        "--server https://ml.example.com"
    )
)
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(MEMBER_ROLES),
    required=True,
    help="reader: read everything; contributor: also runs, metrics, models, submit; owner: "
    "also members, compute targets, deletes.",
)
@_workspace_option
@server_option
@json_option
@pass_state
def add(
    state: CliState, name: str, role: str, workspace_name: str | None, server: str | None
) -> None:
    """Give user NAME a role in the workspace (replacing the one they had)."""
    workspace = _workspace(state, workspace_name)
    path = f"/workspaces/{quote(workspace, safe='')}/members/{quote(name, safe='')}"
    added = _call(state, server, "PUT", path, json={"role": role})
    if state.output.json_output:
        state.output.json(added)
    else:
        state.output.note(f"{added['user']} is now {added['role']} of workspace {workspace!r}.")


@member.command("list")
@_workspace_option
@server_option
@json_option
@pass_state
def list_members(state: CliState, workspace_name: str | None, server: str | None) -> None:
    """List the workspace's members and their roles."""
    workspace = _workspace(state, workspace_name)
    members = _call(state, server, "GET", f"/workspaces/{quote(workspace, safe='')}/members")
    found = members["members"]
    if state.output.json_output:
        state.output.json(found)
        return
    state.output.table(
        ["USER", "ROLE"],
        [[m["user"], m["role"]] for m in found],
        title=f"Members of {workspace}",
        empty=f"Workspace {workspace!r} has no members (administrators reach it anyway).",
    )


@member.command()
@click.argument("name")
@_workspace_option
@server_option
@json_option
@pass_state
def remove(state: CliState, name: str, workspace_name: str | None, server: str | None) -> None:
    """Take user NAME's role in the workspace away (their tokens no longer reach it)."""
    workspace = _workspace(state, workspace_name)
    path = f"/workspaces/{quote(workspace, safe='')}/members/{quote(name, safe='')}"
    _call(state, server, "DELETE", path)
    if state.output.json_output:
        state.output.json({"workspace": workspace, "user": name, "removed": True})
    else:
        state.output.note(f"Removed {name} from workspace {workspace!r}.")


def _workspace(state: CliState, given: str | None) -> str:
    """The workspace a member command acts on: ``--workspace-name``, else the config's.

    Raises:
        InvalidArgument: neither names one.
    """
    if given:
        return given
    from runyard.config import load_workspace_config
    from runyard.errors import NotFound

    try:
        return load_workspace_config(state.workspace_path).workspace_name
    except NotFound:
        raise InvalidArgument(
            "Which workspace? Give --workspace-name NAME, or run this where the "
            "workspace's config.json is."
        ) from None


def _call(
    state: CliState, server: str | None, method: str, path: str, **kwargs: Any
) -> dict[str, Any]:
    client = server_client(resolve_server(state, server))
    try:
        response = client.request(method, path, **kwargs)
    finally:
        client.close()
    if response.status_code == 204 or not response.content:
        return {}
    data: dict[str, Any] = response.json()
    return data

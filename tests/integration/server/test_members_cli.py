"""The command line of users and memberships: ``runyard user create|list|disable|enable``
and ``runyard member add|list|remove``, against a real server; and ``runyard server start
--public-url`` refusing a URL a token would leak over."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner, Result
from team_server import Team

from runyard.cli.main import cli


def invoke(*args: str, token: str | None = None) -> Result:
    env = {"RUNYARD_TOKEN": token} if token else None
    return CliRunner().invoke(cli, list(args), env=env)


def test_an_admin_creates_lists_disables_and_enables_users(team: Team) -> None:
    url, admin = team.server.url, team.tokens["admin"]
    created = invoke("user", "create", "uma", "--server", url, "--json", token=admin)
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["name"] == "uma"
    again = invoke("user", "create", "uma", "--server", url, token=admin)
    assert again.exit_code != 0 and "uma" in again.stderr
    listed = invoke("user", "list", "--server", url, "--json", token=admin)
    users = {u["name"]: u for u in json.loads(listed.stdout)}
    assert {"uma", "colin", "admin"} <= set(users) and users["admin"]["admin"] is True
    table = invoke("user", "list", "--server", url, token=admin)
    assert "uma" in table.stdout and "active" in table.stdout

    # uma's token stops working while she is disabled.
    with team.server.client() as client:
        made = client.post("/api/v1/tokens", json={"name": "first", "user": "uma"})
        uma = made.json()["token"]
    disabled = invoke("user", "disable", "uma", "--server", url, token=admin)
    assert disabled.exit_code == 0 and "disabled" in disabled.stderr
    me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {uma}"})
    assert me.status_code == 401
    enabled = invoke("user", "enable", "uma", "--server", url, "--json", token=admin)
    assert json.loads(enabled.stdout)["disabled"] is False
    me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {uma}"})
    assert me.status_code == 200

    # Only administrators manage users, and the error says what is missing.
    refused = invoke("user", "list", "--server", url, token=team.tokens["owner"])
    assert refused.exit_code != 0 and "admin" in refused.stderr.lower()


def test_an_owner_adds_lists_and_removes_members(team: Team) -> None:
    url, owner = team.server.url, team.tokens["owner"]
    token = team.new_user("mia")
    common = ("--workspace-name", "team", "--server", url)
    added = invoke("member", "add", "mia", "--role", "reader", *common, "--json", token=owner)
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"workspace": "team", "user": "mia", "role": "reader"}
    runs = httpx.get(
        f"{url}/api/v1/workspaces/team/experiments", headers={"Authorization": f"Bearer {token}"}
    )
    assert runs.status_code == 200  # a reader now
    listed = invoke("member", "list", *common, "--json", token=owner)
    assert {"user": "mia", "role": "reader", "workspace": "team"} in json.loads(listed.stdout)
    promoted = invoke("member", "add", "mia", "--role", "contributor", *common, token=owner)
    assert "mia is now contributor of workspace 'team'" in promoted.stderr
    table = invoke("member", "list", *common, token=owner)
    assert "mia" in table.stdout and "contributor" in table.stdout

    removed = invoke("member", "remove", "mia", *common, token=owner)
    assert removed.exit_code == 0, removed.output
    runs = httpx.get(
        f"{url}/api/v1/workspaces/team/experiments", headers={"Authorization": f"Bearer {token}"}
    )
    assert runs.status_code == 403

    # A contributor may not change members; a bad role is refused before any call.
    refused = invoke(
        "member", "add", "mia", "--role", "owner", *common, token=team.tokens["contributor"]
    )
    assert refused.exit_code != 0 and "owner" in refused.stderr.lower()
    bad = invoke("member", "add", "mia", "--role", "admin", *common, token=owner)
    assert bad.exit_code != 0 and "reader" in bad.output


def test_member_commands_say_which_workspace_and_server_they_need(
    team: Team, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no workspace config here
    owner = team.tokens["owner"]
    no_workspace = invoke("member", "list", "--server", team.server.url, token=owner)
    assert no_workspace.exit_code != 0 and "--workspace-name NAME" in no_workspace.stderr
    no_server = invoke("member", "list", "--workspace-name", "team", token=owner)
    assert no_server.exit_code != 0 and "Give --server URL" in no_server.stderr
    unknown = invoke(
        "member", "list", "--workspace-name", "nope", "--server", team.server.url, token=owner
    )
    assert unknown.exit_code != 0 and "nope" in unknown.stderr


@pytest.mark.parametrize("url", ["http://ml.example.com", "https://ml.example.com/runyard"])
def test_server_start_refuses_a_public_url_a_token_would_leak_over(url: str, tmp_path) -> None:
    result = invoke("server", "start", "--home", str(tmp_path), "--public-url", url)
    assert result.exit_code != 0
    assert "--public-url" in result.stderr and "https" in result.stderr

"""The command line of identity: ``runyard server init-admin``, ``runyard login`` /
``logout`` and ``runyard token create|list|revoke``, against a real server."""

from __future__ import annotations

import json
import os
import stat

import httpx
from click.testing import CliRunner, Result
from team_server import Team

from runyard.cli.main import cli
from runyard.credentials import credentials_path
from runyard.settings import Settings


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def test_init_admin_prints_the_token_alone_once_and_refuses_a_second_time(tmp_path) -> None:
    home = str(tmp_path / "home")
    first = invoke("server", "init-admin", "--home", home, "--name", "alice")
    assert first.exit_code == 0, first.output
    token = first.stdout.strip()
    assert token.startswith("ry_") and "\n" not in token
    assert "shown only this once" in first.stderr and token not in first.stderr
    with open(os.path.join(home, "server.db"), "rb") as db:
        assert token.encode() not in db.read()  # kept only as its hash
    second = invoke("server", "init-admin", "--home", home, "--name", "mallory")
    assert second.exit_code != 0
    assert "has an administrator already (alice)" in second.stderr
    assert second.stdout == ""


def test_login_checks_the_token_then_stores_it_private(team: Team) -> None:
    url = team.server.url
    result = invoke("login", "--server", url + "/", input=team.tokens["contributor"] + "\n")
    assert result.exit_code == 0, result.output
    assert f"Logged in to {url} as colin" in result.stderr
    path = credentials_path(Settings.from_env())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="utf-8") as fh:
        stored = json.load(fh)["servers"][url]
    assert stored == {"token": team.tokens["contributor"], "user": "colin"}


def test_login_with_a_bad_token_stores_nothing(team: Team) -> None:
    result = invoke("login", "--server", team.server.url, "--token", "ry_wrong")
    assert result.exit_code != 0
    assert "not known to this server" in result.stderr and "ry_wrong" not in result.output
    assert not os.path.exists(credentials_path(Settings.from_env()))


def test_token_commands_need_a_login_and_say_so(team: Team) -> None:
    result = invoke("token", "list", "--server", team.server.url)
    assert result.exit_code != 0
    assert f"runyard login --server {team.server.url}" in result.stderr
    nowhere = invoke("token", "list")
    assert nowhere.exit_code != 0 and "Give --server URL" in nowhere.stderr


def test_token_create_list_revoke_after_login(team: Team) -> None:
    url = team.server.url
    token = team.new_user("tina", "reader")
    assert invoke("login", "--server", url, input=token).exit_code == 0
    created = invoke("token", "create", "ci", "--expires-days", "2", "--server", url)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("ry_") and "shown only this once" in created.stderr
    listed = invoke("token", "list", "--server", url, "--json")
    assert listed.exit_code == 0, listed.output
    tokens = json.loads(listed.stdout)
    assert {t["name"] for t in tokens} == {"first", "ci"}
    assert secret not in listed.stdout and token not in listed.stdout
    table = invoke("token", "list", "--server", url)
    assert "ci" in table.stdout and "active" in table.stdout
    ci = next(t for t in tokens if t["name"] == "ci")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as client:
        assert client.get("/api/v1/me").json()["user"] == "tina"
        revoked = invoke("token", "revoke", ci["id"], "--server", url)
        assert revoked.exit_code == 0 and "Revoked token 'ci'" in revoked.stderr
        assert client.get("/api/v1/me").status_code == 401
    never = invoke("token", "create", "forever", "--no-expiry", "--server", url, "--json")
    assert json.loads(never.stdout)["expires_at"] is None
    assert invoke("logout", "--server", url).exit_code == 0
    assert invoke("token", "list", "--server", url).exit_code != 0

"""Authentication and roles over a real server process: no token, bad tokens, roles per
workspace, run tokens, no cookies (so no CSRF), no token in logs or error bodies, write
rate limits, and the refusal to serve a network address before an admin exists."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from team_server import Team, start_team

from runyard.server.identity import RunScope, open_identity_store
from server_process import free_port

MEMBERS_URL = "/api/v1/workspaces/team/members"


def _error(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["error"]
    return error["code"], error["message"]


def test_a_request_without_a_token_gets_401_saying_how_to_get_one(team: Team) -> None:
    for method, path in (("GET", MEMBERS_URL), ("POST", "/api/v1/tokens"), ("GET", "/api/v1/me")):
        response = httpx.request(method, team.server.url + path, json={})
        assert response.status_code == 401, (path, response.text)
        code, message = _error(response)
        assert code == "unauthorized"
        assert "Authorization: Bearer TOKEN" in message and "runyard login" in message
        assert response.headers["www-authenticate"] == "Bearer"
    # The probes and the API document stay open: they say nothing about the data.
    assert httpx.get(team.server.url + "/health/live").status_code == 200
    assert httpx.get(team.server.url + "/api/v1/openapi.json").status_code == 200


def test_malformed_unknown_expired_and_revoked_tokens_get_401(team: Team) -> None:
    url = team.server.url + "/api/v1/me"
    good = team.tokens["reader"]
    for header, why in (
        (f"Basic {good}", "must read 'Bearer TOKEN'"),
        ("Bearer", "must read 'Bearer TOKEN'"),
        ("Bearer ry_not-a-token-of-this-server", "not known to this server"),
        (f"Bearer {good}x", "not known to this server"),
    ):
        response = httpx.get(url, headers={"Authorization": header})
        assert response.status_code == 401 and why in _error(response)[1], header
    with team.client("admin") as admin:
        # A lifetime of 0.4 s: created, used while valid, then refused once it has passed.
        short = admin.post(
            "/api/v1/tokens", json={"name": "short", "user": "rita", "expires_days": 0.4 / 86400}
        ).json()["token"]
        assert httpx.get(url, headers={"Authorization": f"Bearer {short}"}).status_code == 200
        time.sleep(0.6)
        expired = httpx.get(url, headers={"Authorization": f"Bearer {short}"})
        assert expired.status_code == 401 and "expired on" in _error(expired)[1]
    token = team.new_user("victor", "reader")
    with team.server.client(token) as victor:
        assert victor.get(MEMBERS_URL).status_code == 200  # cached as valid now
        mine = victor.get("/api/v1/tokens").json()["tokens"]
        assert victor.delete(f"/api/v1/tokens/{mine[0]['id']}").status_code == 200
        revoked = victor.get(MEMBERS_URL)  # at once, cache or not
        assert revoked.status_code == 401 and "was revoked on" in _error(revoked)[1]


def test_a_reader_cannot_write_a_contributor_cannot_manage_members_an_owner_can(
    team: Team,
) -> None:
    team.new_user("newbie")
    body = {"role": "reader"}
    with team.client("reader") as reader:
        assert reader.get(MEMBERS_URL).status_code == 200
        refused = reader.put(f"{MEMBERS_URL}/newbie", json=body)
        assert refused.status_code == 403
        code, message = _error(refused)
        assert code == "forbidden" and "rita is a reader here; this needs the owner role" in message
    with team.client("contributor") as contributor:
        assert contributor.put(f"{MEMBERS_URL}/newbie", json=body).status_code == 403
        assert contributor.delete(f"{MEMBERS_URL}/rita").status_code == 403
    with team.client("outsider") as outsider:
        not_member = outsider.get(MEMBERS_URL)
        assert not_member.status_code == 403
        assert "oscar is not a member of workspace 'team'" in _error(not_member)[1]
        assert outsider.get("/api/v1/workspaces").json()["workspaces"] == []
    with team.client("owner") as owner:
        added = owner.put(f"{MEMBERS_URL}/newbie", json={"role": "contributor"})
        assert added.status_code == 200 and added.json()["role"] == "contributor"
        listed = {m["user"]: m["role"] for m in owner.get(MEMBERS_URL).json()["members"]}
        assert listed["newbie"] == "contributor" and listed["olivia"] == "owner"
        bad = owner.put(f"{MEMBERS_URL}/newbie", json={"role": "admin"})
        assert bad.status_code == 400 and "not a workspace role" in _error(bad)[1]
        assert owner.delete(f"{MEMBERS_URL}/newbie").status_code == 204
        assert owner.post("/api/v1/workspaces", json={"name": "mine"}).status_code == 403
        assert owner.get("/api/v1/users").status_code == 403
    with team.client("admin") as admin:
        names = {m["user"] for m in admin.get(MEMBERS_URL).json()["members"]}
        assert "newbie" not in names


def test_a_role_change_applies_from_the_next_request(team: Team) -> None:
    token = team.new_user("promoted", "reader")
    with team.server.client(token) as user, team.client("owner") as owner:
        assert user.put(f"{MEMBERS_URL}/promoted", json={"role": "owner"}).status_code == 403
        owner.put(f"{MEMBERS_URL}/promoted", json={"role": "owner"}).raise_for_status()
        assert user.get("/api/v1/me").json()["memberships"] == {"team": "owner"}
        assert user.put(f"{MEMBERS_URL}/promoted", json={"role": "reader"}).status_code == 200


def test_a_disabled_users_tokens_stop_working_until_enabled(team: Team) -> None:
    token = team.new_user("dora", "reader")
    with team.server.client(token) as dora, team.client("admin") as admin:
        assert dora.get(MEMBERS_URL).status_code == 200
        assert admin.patch("/api/v1/users/dora", json={"disabled": True}).status_code == 200
        refused = dora.get(MEMBERS_URL)
        assert refused.status_code == 401 and "dora is disabled" in _error(refused)[1]
        admin.patch("/api/v1/users/dora", json={"disabled": False}).raise_for_status()
        assert dora.get(MEMBERS_URL).status_code == 200
        itself = admin.patch("/api/v1/users/admin", json={"disabled": True})
        assert itself.status_code == 409 and "cannot disable yourself" in _error(itself)[1]


def test_tokens_are_shown_once_listed_without_secrets_and_owned(team: Team) -> None:
    with team.client("contributor") as colin:
        created = colin.post("/api/v1/tokens", json={"name": "notebook", "expires_days": 7})
        assert created.status_code == 201
        secret = created.json()["token"]
        assert secret.startswith("ry_") and created.json()["user"] == "colin"
        listing = colin.get("/api/v1/tokens")
        assert secret not in listing.text and "token_hash" not in listing.text
        assert "notebook" in {t["name"] for t in listing.json()["tokens"]}
        other = colin.post("/api/v1/tokens", json={"name": "x", "user": "rita"})
        assert other.status_code == 403
        assert colin.get("/api/v1/tokens", params={"user": "rita"}).status_code == 403
    with team.client("reader") as rita:
        # Another user's token id is answered as missing, never revoked.
        assert rita.delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 404
    with team.server.client(secret) as notebook:
        assert notebook.get("/api/v1/me").json()["user"] == "colin"


def test_a_run_token_writes_only_its_workspace_and_manages_nothing(team: Team) -> None:
    store = open_identity_store(team.server.home)
    try:
        run_token = store.create_token("colin", "run", run_scope=RunScope("team", "run-1")).secret
    finally:
        store.close()
    with team.server.client(run_token) as run:
        me = run.get("/api/v1/me").json()
        assert me["token"]["run_scope"] == {"workspace": "team", "run_id": "run-1"}
        assert run.get(MEMBERS_URL).status_code == 200
        assert run.put(f"{MEMBERS_URL}/colin", json={"role": "owner"}).status_code == 403
        manage = run.post("/api/v1/tokens", json={"name": "escape"})
        assert manage.status_code == 403 and "run's token" in _error(manage)[1]
        assert run.get("/api/v1/workspaces/other/members").status_code == 403


def test_a_cookie_is_never_taken_for_a_token(team: Team) -> None:
    # A browser sends cookies on cross-site requests by itself; a bearer header it never
    # does. Taking only the header is what keeps state-changing routes safe from CSRF.
    token = team.tokens["admin"]
    for cookie in (f"token={token}", f"runyard_token={token}", f"Authorization=Bearer {token}"):
        forged = httpx.post(
            team.server.url + "/api/v1/users",
            content=b"name=forged",
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert forged.status_code == 401, cookie
    with team.client("admin") as admin:
        assert "forged" not in {u["name"] for u in admin.get("/api/v1/users").json()["users"]}


def test_no_token_appears_in_the_server_log_or_an_error_body(team: Team) -> None:
    bodies = []
    tokens = list(team.tokens.values())
    for token in tokens:
        for path in (MEMBERS_URL, "/api/v1/users", "/api/v1/workspaces/nope/members"):
            for header in (f"Bearer {token}", f"Bearer {token}zz", f"Token {token}"):
                bodies.append(httpx.get(team.server.url + path, headers={"Authorization": header}))
        bodies.append(
            httpx.post(
                team.server.url + "/api/v1/tokens",
                headers={"Authorization": f"Bearer {token}"},
                json={"name": "", "user": token},
            )
        )
    assert {r.status_code for r in bodies} >= {200, 400, 401, 403, 404}
    log = team.server.log()
    for token in tokens:
        assert token not in log
        for response in bodies:
            if response.status_code >= 400:
                assert token not in response.text, response.text


def test_writes_beyond_a_tokens_rate_get_429_with_retry_after(tmp_path) -> None:
    limited = start_team(tmp_path, ["--write-rate", "0.5", "--write-burst", "2"])
    try:
        with limited.client("reader") as rita, limited.client("contributor") as colin:
            # A refused write is not one; the user setup above spent the admin's burst.
            answers = [rita.post("/api/v1/tokens", json={"name": f"t{i}"}) for i in range(3)]
            assert [a.status_code for a in answers] == [201, 201, 429]
            code, message = _error(answers[2])
            assert code == "rate_limited" and "writes per second" in message
            assert 1 <= int(answers[2].headers["retry-after"]) <= 2
            assert rita.get("/api/v1/tokens").status_code == 200  # reads are not limited
            assert colin.post("/api/v1/tokens", json={"name": "mine"}).status_code == 201
            time.sleep(2.1)
            assert rita.post("/api/v1/tokens", json={"name": "later"}).status_code == 201
    finally:
        limited.server.stop()


def test_the_server_refuses_to_serve_a_network_address_before_an_admin_exists(tmp_path) -> None:
    home = tmp_path / "home"
    args = ["--port", str(free_port()), "--home", str(home)]
    started = subprocess.run(
        [sys.executable, "-m", "runyard.cli", "server", "start", "--host", "0.0.0.0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RUNYARD_HOME": str(tmp_path / "rh")},
        cwd=tmp_path,
    )
    assert started.returncode != 0
    assert "Refusing to serve on 0.0.0.0" in started.stderr
    assert f"runyard server init-admin --home {home}" in started.stderr
    assert "Uvicorn running" not in started.stderr + started.stdout

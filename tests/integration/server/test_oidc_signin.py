"""Signing in to the web UI through a real OpenID Connect provider (oidc-provider-mock: a
real OIDC server over HTTP that signs real ID tokens; who signs in is chosen on its form),
against a real ``runyard server start --oidc-issuer ...`` process."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from server_process import ServerProcess, start_server

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

pytestmark = [
    pytest.mark.integration,
    # The provider (in this process, on a thread) runs on Authlib APIs that warn of their
    # own deprecation; the suite's warnings-as-errors would turn its answers into 500s.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

SECRET = "a-client-secret-of-this-test"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        # The issuer is the address it is reached at, exactly (localhost, not 127.0.0.1).
        yield f"http://localhost:{server.server_port}"


def _start(tmp_path: Path, provider: str, *more: str) -> ServerProcess:
    from runyard.core import Workspace

    workspace = tmp_path / "ws"
    Workspace.create("ws", path=workspace).close()
    return start_server(
        str(workspace),
        log_dir=str(tmp_path),
        extra_args=["--oidc-issuer", provider, "--oidc-client-id", "runyard-ui", *more],
        env={"RUNYARD_OIDC_CLIENT_SECRET": SECRET},
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[ServerProcess]:
    process = _start(tmp_path_factory.mktemp("oidc"), provider)
    with process.client() as admin:
        admin.post("/api/v1/users", json={"name": "alice"}).raise_for_status()
        admin.post("/api/v1/users", json={"name": "mallory"}).raise_for_status()
        admin.patch("/api/v1/users/mallory", json={"disabled": True}).raise_for_status()
    yield process
    process.stop()


def _set_user(provider: str, sub: str, username: str) -> None:
    httpx.put(
        f"{provider}/users/{sub}", json={"preferred_username": username, "email": sub}
    ).raise_for_status()


def _sign_in(
    server: ServerProcess, provider: str, sub: str, next_path: str = "/w/ws"
) -> httpx.Response:
    """The browser's walk: our login -> the provider's form (submitted as ``sub``) -> our
    callback. Returns the callback's answer."""
    with httpx.Client(base_url=server.url) as browser:
        start = browser.get("/auth/oidc/login", params={"next": next_path})
        assert start.status_code == 303, start.text
        authorize = start.headers["location"]
        assert authorize.startswith(provider + "/oauth2/authorize?")
        query = parse_qs(urlsplit(authorize).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        assert "runyard_oidc" in browser.cookies
        back = httpx.post(authorize, data={"sub": sub, "action": "authorize"})
        assert back.status_code == 302, back.text
        return browser.get(back.headers["location"])


def _token_of(answer: httpx.Response) -> str:
    location = answer.headers["location"]
    _path, _, fragment = location.partition("#")
    assert fragment.startswith("token=")
    return fragment.removeprefix("token=")


def test_sign_in_ends_with_an_api_token_of_the_named_user(
    server: ServerProcess, provider: str
) -> None:
    assert httpx.get(server.url + "/auth/config").json() == {
        "oidc": True,
        "login_url": "/auth/oidc/login",
    }
    _set_user(provider, "alice@example.com", "alice")
    answer = _sign_in(server, provider, "alice@example.com", next_path="/w/ws/experiments/x")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/w/ws/experiments/x#token=")
    token = _token_of(answer)
    me = httpx.get(server.url + "/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    names = {t["name"] for t in me.json()["tokens"]}
    assert "web UI sign-in (OIDC)" in names
    assert all(t["user"] == "alice" for t in me.json()["tokens"])
    # Neither the token nor the client secret reaches the server's log.
    log = server.log()
    assert token not in log and SECRET not in log


def test_a_person_the_server_does_not_know_is_refused(server: ServerProcess, provider: str) -> None:
    _set_user(provider, "eve@example.com", "eve")
    answer = _sign_in(server, provider, "eve@example.com")
    assert answer.status_code == 403
    assert "no Runyard user 'eve'" in html.unescape(answer.text)
    assert "#token=" not in answer.headers.get("location", "")


def test_a_disabled_user_is_refused(server: ServerProcess, provider: str) -> None:
    _set_user(provider, "mallory@example.com", "mallory")
    answer = _sign_in(server, provider, "mallory@example.com")
    assert answer.status_code == 403 and "disabled" in answer.text


def test_a_claim_that_is_no_user_name_is_refused_with_what_to_do(
    server: ServerProcess, provider: str
) -> None:
    _set_user(provider, "odd@example.com", "../../etc")
    answer = _sign_in(server, provider, "odd@example.com")
    assert answer.status_code == 403 and "--oidc-username-claim" in answer.text


def test_the_return_address_never_leaves_the_server(server: ServerProcess, provider: str) -> None:
    _set_user(provider, "alice@example.com", "alice")
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = _sign_in(server, provider, "alice@example.com", next_path=hostile)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/#token=")


def test_a_callback_without_the_started_sign_in_or_with_another_state_is_refused(
    server: ServerProcess, provider: str
) -> None:
    _set_user(provider, "alice@example.com", "alice")
    with httpx.Client(base_url=server.url) as browser:
        start = browser.get("/auth/oidc/login")
        back = httpx.post(start.headers["location"], data={"sub": "alice@example.com"})
        callback = urlsplit(back.headers["location"])
        params = parse_qs(callback.query)
        # Another browser (no cookie) presenting the code: refused.
        stranger = httpx.get(
            server.url + callback.path, params={k: v[0] for k, v in params.items()}
        )
        assert stranger.status_code == 400 and "#token=" not in stranger.text
        # The right browser with a forged state: refused.
        forged = browser.get(callback.path, params={"code": params["code"][0], "state": "forged"})
        assert forged.status_code == 400 and "state differs" in forged.text
        # A tampered cookie: refused.
        browser.cookies.set("runyard_oidc", "e30." + "A" * 43, path="/auth/oidc")
        tampered = browser.get(callback.path, params={k: v[0] for k, v in params.items()})
        assert tampered.status_code == 400 and "altered" in tampered.text


def test_the_provider_refusing_is_shown_not_a_token(server: ServerProcess) -> None:
    answer = httpx.get(
        server.url + "/auth/oidc/callback",
        params={"error": "access_denied", "error_description": "The user said no\x1b[31m"},
    )
    assert answer.status_code == 403
    assert "access_denied" in answer.text and "\x1b" not in answer.text


def test_users_can_be_made_on_first_sign_in_when_the_server_says_so(
    tmp_path: Path, provider: str
) -> None:
    server = _start(tmp_path, provider, "--oidc-create-users")
    try:
        _set_user(provider, "bob@example.com", "bob")
        answer = _sign_in(server, provider, "bob@example.com")
        assert answer.status_code == 303
        with server.client() as admin:
            users = {u["name"]: u for u in admin.get("/api/v1/users").json()["users"]}
        assert "bob" in users and not users["bob"]["admin"]
    finally:
        server.stop()


def test_a_server_without_oidc_says_so_and_has_no_sign_in_routes(
    session_server: ServerProcess,
) -> None:
    assert httpx.get(session_server.url + "/auth/config").json() == {"oidc": False}
    assert httpx.get(session_server.url + "/auth/oidc/login").status_code == 404

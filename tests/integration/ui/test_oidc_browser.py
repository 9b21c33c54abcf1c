"""Single sign-on in a real Chromium: the sign-in page offers it, the provider's form signs
the person in, and the UI comes back signed in as the matching Runyard user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_pages import open_tab, wait_until

from server_process import ServerProcess, start_server

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the provider's Authlib


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    from runyard.core import Workspace

    root: Path = tmp_path_factory.mktemp("sso")
    Workspace.create("sso", path=root / "ws").close()
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        server = start_server(
            str(root / "ws"),
            log_dir=str(root),
            extra_args=["--oidc-issuer", issuer, "--oidc-client-id", "runyard-ui"],
            env={"RUNYARD_OIDC_CLIENT_SECRET": "browser-test-secret"},
        )
        try:
            with server.client() as admin:
                admin.post("/api/v1/users", json={"name": "alice"}).raise_for_status()
                admin.put(
                    "/api/v1/workspaces/sso/members/alice", json={"role": "reader"}
                ).raise_for_status()
            httpx.put(
                f"{issuer}/users/alice@example.com", json={"preferred_username": "alice"}
            ).raise_for_status()
            yield server, issuer
        finally:
            server.stop()


def test_single_sign_on_signs_the_browser_in_as_the_named_user(
    browser: Any, sso_server: tuple[ServerProcess, str]
) -> None:
    server, issuer = sso_server
    tab = open_tab(browser, None)
    try:
        page = tab.page
        failed: list[str] = []  # our server's answers of 400 and above
        page.on(
            "response",
            lambda r: (
                failed.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.url.startswith(server.url)
                else None
            ),
        )
        page.goto(server.url + "/w/sso")
        page.get_by_role("link", name="Sign in with single sign-on").click()
        page.wait_for_url(f"{issuer}/oauth2/authorize*")
        failed.clear()  # before signing in, the API's 401s are expected
        page.fill("input[name=sub]", "alice@example.com")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(server.url + "/w/sso*")
        # Signed in: the page holds alice's token, and the fragment that carried it is gone.
        wait_until(tab, "!!localStorage.getItem('runyard.token') && !location.hash")
        token = page.evaluate("localStorage.getItem('runyard.token')")
        me = httpx.get(
            server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert me["user"] == "alice" and me["memberships"] == {"sso": "reader"}
        page.get_by_role("heading", name="Experiments").wait_for()
        # The provider's own page logs errors of its own (it pulls a CDN); ours has none.
        assert failed == []
        assert not [e for e in tab.errors if "uncaught" in e]
    finally:
        tab.context.close()

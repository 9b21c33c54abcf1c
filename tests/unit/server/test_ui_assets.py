"""The web UI's files in front of the API: pages get index.html, assets are cached for
good and never escape their folder, and an unbuilt UI says how to build it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from runyard.server.ui.assets import WebUi, is_page


async def _api(scope, receive, send) -> None:  # the app behind: answers "api"
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"api"})


def _get(ui: WebUi, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    sent: list[dict] = []
    asked: list[bool] = []

    async def receive() -> dict:
        if asked:  # the client stays connected until the response is sent
            await asyncio.sleep(3600)
        asked.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [], "query_string": b""}
    asyncio.run(ui(scope, receive, send))
    headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], headers, body


def test_pages_get_index_and_assets_are_immutable(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>ui</html>")
    (tmp_path / "assets" / "main-ABC.js").write_text("js")
    (tmp_path / "secret.txt").write_text("no")
    ui = WebUi(_api, tmp_path)
    status, headers, body = _get(ui, "/w/team/runs/r1")
    assert (status, body) == (200, b"<html>ui</html>") and headers["cache-control"] == "no-cache"
    status, headers, _ = _get(ui, "/assets/main-ABC.js")
    assert status == 200 and "immutable" in headers["cache-control"]
    assert _get(ui, "/assets/../secret.txt")[0] == 404
    assert _get(ui, "/assets/%2e%2e/secret.txt")[0] == 404
    assert _get(ui, "/api/v1/workspaces")[2] == b"api"  # the API is not the UI's
    assert _get(ui, "/w/team", method="POST")[2] == b"api"
    assert is_page("/") and is_page("/w/x") and not is_page("/wx") and not is_page("/health/live")


def test_an_unbuilt_ui_answers_a_page_that_says_how_to_build_it(tmp_path: Path) -> None:
    status, _, body = _get(WebUi(_api, tmp_path / "missing"), "/")
    assert status == 503
    assert b"bash scripts/setup" in body and b"npm ci" in body

"""Serving the built web UI: hashed assets cached for a year, every page URL answered with
``index.html`` (the UI routes in the browser, so each page has a URL to share), and a
clear page when the assets were never built.

The UI is served by an ASGI middleware in front of the API rather than by API routes: its
files hold no data (every datum comes through the API, with the caller's token), so they
are open like the API's own description, and the API's routes stay exactly the guarded ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

#: Where ``frontend/``'s build writes the UI (shipped as package data).
DIST_DIR = Path(__file__).resolve().parent / "dist"

#: Assets have content hashes in their names, so a browser may keep them for good.
_IMMUTABLE = "public, max-age=31536000, immutable"
#: The page itself names the current assets: always revalidated.
_REVALIDATE = "no-cache"
#: Headers of the page: no framing by other sites, no guessing of types, no referrer leaks.
_PAGE_HEADERS = {
    "Cache-Control": _REVALIDATE,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}

_MISSING_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Runyard: web UI not built</title></head><body style="font-family:sans-serif;margin:3em">
<h1>The web UI is not built</h1>
<p>This Runyard server has no built UI assets in <code>{dist}</code>.
The REST API works (<a href="/api/v1/docs">/api/v1/docs</a>).</p>
<p>In a checkout, build them with <code>bash scripts/setup</code> (it needs Node.js and npm:
it runs <code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>).
A released package ships them built.</p></body></html>"""


def is_page(path: str) -> bool:
    """Whether ``path`` is one of the UI's pages (``/`` and everything under ``/w/``)."""
    return path == "/" or path == "/w" or path.startswith("/w/")


class WebUi:
    """ASGI middleware: GET and HEAD of the UI's pages and ``/assets/...`` are answered
    from ``dist``; every other request goes to the app (the API).

    Args:
        app: the API application.
        dist: the built UI (``index.html`` and ``assets/``).
    """

    def __init__(self, app: ASGIApp, dist: Path = DIST_DIR) -> None:
        self.app = app
        self.dist = dist
        self.assets = (dist / "assets").resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = self.respond(scope["path"])
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def respond(self, path: str) -> Response | None:
        """The UI's answer to a GET of ``path``, or None when it is not the UI's."""
        if path.startswith("/assets/"):
            target = (self.assets / path[len("/assets/") :]).resolve()
            if not target.is_relative_to(self.assets) or not target.is_file():
                return PlainTextResponse("No such UI asset.", status_code=404)
            return FileResponse(target, headers={"Cache-Control": _IMMUTABLE})
        if not is_page(path):
            return None
        index = self.dist / "index.html"
        if not index.is_file():
            page = _MISSING_PAGE.format(dist=os.fspath(self.dist))
            return HTMLResponse(page, status_code=503, headers={"Cache-Control": _REVALIDATE})
        return FileResponse(index, media_type="text/html", headers=_PAGE_HEADERS)


def install_web_ui(app: Any, dist: Path = DIST_DIR) -> None:
    """Serve the web UI from ``dist`` in front of ``app`` (a FastAPI app)."""
    app.add_middleware(WebUi, dist=dist)

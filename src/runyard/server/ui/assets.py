"""Serving the built web UI: hashed assets cached for a year, every page URL answered with
``index.html`` (the UI routes in the browser, so each page has a URL to share), and a
clear page when the assets were never built."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from runyard.errors import NotFound

#: Where ``frontend/``'s build writes the UI (shipped as package data).
DIST_DIR = Path(__file__).resolve().parent / "dist"

#: Assets have content hashes in their names, so a browser may keep them for good.
_IMMUTABLE = "public, max-age=31536000, immutable"
#: The page itself names the current assets: always revalidated.
_REVALIDATE = "no-cache"
#: The first path segments that are pages of the UI (the browser-side router's).
PAGE_ROOTS = ("", "w")

_MISSING_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Runyard: web UI not built</title></head><body style="font-family:sans-serif;margin:3em">
<h1>The web UI is not built</h1>
<p>This Runyard server has no built UI assets in <code>{dist}</code>.
The REST API works (<a href="/api/v1/docs">/api/v1/docs</a>).</p>
<p>In a checkout, build them with <code>bash scripts/setup</code> (it needs Node.js and npm:
it runs <code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>).
A released package ships them built.</p></body></html>"""


def ui_router(dist: Path = DIST_DIR) -> APIRouter:
    """Routes serving the UI from ``dist``: ``/assets/...`` and the pages (``/``, ``/w/...``).

    Without a built ``index.html`` the pages answer 503 with a page saying how to build it.
    """
    router = APIRouter(tags=["ui"], include_in_schema=False)
    assets = (dist / "assets").resolve()

    @router.get("/assets/{name:path}")
    def asset(name: str) -> Response:
        path = (assets / name).resolve()
        if not path.is_relative_to(assets) or not path.is_file():
            raise NotFound(f"No UI asset {name!r}.")
        return FileResponse(path, headers={"Cache-Control": _IMMUTABLE})

    def page(request: Request) -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(_MISSING_PAGE.format(dist=os.fspath(dist)), status_code=503)
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": _REVALIDATE})

    router.add_api_route("/", page, methods=["GET"])
    router.add_api_route("/w/{rest:path}", page, methods=["GET"])
    return router

"""The web UI's sign-in routes: ``/auth/config`` (how this server signs people in) and,
when an OpenID Connect provider is configured, ``/auth/oidc/login`` and
``/auth/oidc/callback``.

They are open routes outside the API, like the health probes: a browser reaches them before
it holds any token, and what they hand out is an ordinary API token of an existing (or, if
the server says so, a new) user.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from runyard.errors import Forbidden, NotFound
from runyard.server.identity import IdentityStore
from runyard.server.settings import OidcSettings

if TYPE_CHECKING:
    from runyard.server.auth.oidc import Identity

log = logging.getLogger("runyard.server.signin")

#: The cookie carrying a started sign-in's state to the callback.
STATE_COOKIE = "runyard_oidc"
LOGIN_PATH = "/auth/oidc/login"
CALLBACK_PATH = "/auth/oidc/callback"
CONFIG_PATH = "/auth/config"
#: The name of the API tokens a sign-in issues (shown in ``runyard token list``).
TOKEN_NAME = "web UI sign-in (OIDC)"

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def install_signin(app: FastAPI) -> None:
    """Add the sign-in routes for ``app.state.settings.oidc`` (``/auth/config`` always)."""
    settings = app.state.settings.oidc
    client = None
    if settings is not None:
        # Imported only when configured: the OIDC client brings httpx and joserfc (about
        # 12 MB in every worker process of a server that does not use them).
        from runyard.server.auth.oidc import STATE_LIFETIME_S, OidcClient, OidcError

        client = OidcClient(settings)

    async def config(request: Request) -> Response:
        body: dict[str, object] = {"oidc": client is not None}
        if client is not None:
            body["login_url"] = LOGIN_PATH
        return JSONResponse(body, headers=_NO_STORE)

    app.router.add_route(CONFIG_PATH, config, methods=["GET"])
    if client is None:
        return

    async def login(request: Request) -> Response:
        redirect_uri = _callback_url(request)
        try:
            url, cookie = await run_in_threadpool(
                client.start, redirect_uri, request.query_params.get("next")
            )
        except OidcError as exc:
            return _problem(502, "The sign-in provider cannot be reached", exc.message)
        response = RedirectResponse(url, status_code=303, headers=_NO_STORE)
        response.set_cookie(
            STATE_COOKIE,
            cookie,
            max_age=int(STATE_LIFETIME_S),
            path="/auth/oidc",
            httponly=True,
            secure=redirect_uri.startswith("https://"),
            # Lax: the provider sends the browser back with a top-level GET, which Lax
            # admits, while other sites' subrequests never carry the cookie.
            samesite="lax",
        )
        return response

    async def callback(request: Request) -> Response:
        params = request.query_params
        if params.get("error"):
            said = "".join(c for c in params.get("error_description", "") if c.isprintable())
            return _problem(
                403,
                "The sign-in provider did not sign you in",
                f"It answered {params['error'][:80]!r}{': ' + said[:200] if said else ''}.",
                clear_cookie=True,
            )
        store: IdentityStore = request.app.state.identity
        try:
            pending = client.unseal(request.cookies.get(STATE_COOKIE))
            identity = await run_in_threadpool(
                client.finish,
                pending,
                params.get("state"),
                params.get("code"),
                _callback_url(request),
            )
            secret = await run_in_threadpool(_token_for, store, identity, settings)
        except OidcError as exc:
            return _problem(400, "The sign-in failed", exc.message, clear_cookie=True)
        except Forbidden as exc:
            return _problem(403, "You cannot sign in to this server", exc.message, True)
        log.info(
            "Signed in through OIDC: user %s (subject %s)", identity.username, identity.subject
        )
        # The token goes in the fragment: browsers never send it to a server or a log.
        response = RedirectResponse(f"{pending.next_path}#token={secret}", 303, _NO_STORE)
        response.delete_cookie(STATE_COOKIE, path="/auth/oidc")
        return response

    app.router.add_route(LOGIN_PATH, login, methods=["GET"])
    app.router.add_route(CALLBACK_PATH, callback, methods=["GET"], name="oidc_callback")


def _callback_url(request: Request) -> str:
    """Where the provider sends the browser back: under ``--public-url`` when the server
    has one (behind a proxy the request's own address is the proxy's inside view)."""
    public = request.app.state.settings.public_url
    if public:
        return f"{public.rstrip('/')}{CALLBACK_PATH}"
    return str(request.url_for("oidc_callback"))


def _token_for(store: IdentityStore, identity: Identity, settings: OidcSettings) -> str:
    """An API token for the signed-in user (made first if the server says so)."""
    from runyard.server.auth.oidc import check_username

    name = check_username(identity.username)
    try:
        user = store.get_user(name)
    except NotFound:
        if not settings.create_users:
            raise Forbidden(
                f"There is no Runyard user {name!r} on this server. An administrator adds "
                f"one (POST /api/v1/users), then you can sign in."
            ) from None
        user = store.create_user(name)
        log.info("Created user %s on first OIDC sign-in", name)
    if user.disabled:
        raise Forbidden(f"The Runyard user {name!r} is disabled on this server.")
    issued = store.create_token(name, TOKEN_NAME, expires_in_s=settings.session_hours * 3600)
    return issued.secret


def _problem(status: int, title: str, detail: str, clear_cookie: bool = False) -> Response:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Runyard: {html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;margin:3em">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p>"
        f'<p><a href="{LOGIN_PATH}">Try again</a> · <a href="/">Runyard</a></p></body></html>'
    )
    response = HTMLResponse(page, status_code=status, headers=_NO_STORE)
    if clear_cookie:
        response.delete_cookie(STATE_COOKIE, path="/auth/oidc")
    return response

"""Bearer-token authentication: who a request's ``Authorization: Bearer TOKEN`` is, and
their role in the workspace its path names.

Only that header is read: no cookie, no query parameter. A browser therefore never sends
credentials on its own, so state-changing routes cannot be reached by cross-site request
forgery, and a token never lands in an access log's request line.
"""

from __future__ import annotations

import datetime
import math
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from runyard.errors import Forbidden, RateLimited, Unauthorized
from runyard.server.auth.cache import CredentialCache
from runyard.server.auth.ratelimit import WriteRateLimiter
from runyard.server.auth.roles import Principal, Role
from runyard.server.identity.records import Credential
from runyard.server.identity.store import IdentityStore
from runyard.server.identity.tokens import hash_secret

#: Methods that change nothing, so are never rate limited.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NO_TOKEN = (
    "This server needs an API token: send the header 'Authorization: Bearer TOKEN'. "
    "Log in with 'runyard login --server URL', or set RUNYARD_TOKEN; an administrator "
    "creates tokens with 'runyard token create'."
)


class BearerAuthenticator:
    """``app.state.authenticate``: the caller of a request as a :class:`Principal`.

    Args:
        cache: credentials by token hash (see :class:`CredentialCache`).
        limiter: write rate per token.

    The identity store is the app's ``state.identity`` (opened when the app starts).
    """

    def __init__(self, cache: CredentialCache, limiter: WriteRateLimiter) -> None:
        self.cache = cache
        self.limiter = limiter

    async def __call__(self, request: Request) -> Principal:
        """The request's principal.

        Raises:
            Unauthorized: no token, or one that is unknown, expired, revoked or whose user
                is disabled. Forbidden: the caller has no role in the path's workspace.
            RateLimited: a write beyond the token's rate.
        """
        token_hash = hash_secret(_bearer(request))
        credential = self.cache.get(token_hash)
        if credential is None:
            store: IdentityStore = request.app.state.identity
            credential = await run_in_threadpool(store.credential, token_hash)
            if credential is None:
                raise Unauthorized(
                    "The token is not known to this server. Log in again with "
                    "'runyard login --server URL' and a token this server issued."
                )
            self.cache.put(token_hash, credential)
        check_usable(credential)
        principal = principal_for(credential, request.path_params.get("workspace"))
        if request.method not in SAFE_METHODS:
            wait_s = self.limiter.take(credential.token.id)
            if wait_s > 0:
                raise RateLimited(
                    f"Token {credential.token.name!r} sent more than "
                    f"{self.limiter.rate_per_s:g} writes per second; retry in "
                    f"{math.ceil(wait_s)} s.",
                    retry_after_s=wait_s,
                )
        request.state.credential = credential
        return principal


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized(NO_TOKEN)
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized(
            f"The Authorization header must read 'Bearer TOKEN' (it uses "
            f"{scheme[:20]!r}). {NO_TOKEN}"
        )
    return value


def check_usable(credential: Credential, now: float | None = None) -> None:
    """Refuse a revoked or expired token, or one whose user is disabled.

    Raises:
        Unauthorized: saying which of these it is, and what to do.
    """
    token = credential.token
    if token.revoked_at is not None:
        raise Unauthorized(
            f"Token {token.name!r} of {token.user} was revoked on {_when(token.revoked_at)}. "
            "Create a new one ('runyard token create') and log in with it."
        )
    now = time.time() if now is None else now
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized(
            f"Token {token.name!r} of {token.user} expired on {_when(token.expires_at)}. "
            "Create a new one ('runyard token create') and log in with it."
        )
    if credential.user_disabled:
        raise Unauthorized(
            f"User {token.user} is disabled on this server; ask a server administrator."
        )


def principal_for(credential: Credential, workspace: str | None) -> Principal:
    """The caller's principal for a route of ``workspace`` (None: a server-level route).

    A user's role in a workspace is their membership's (an administrator is ADMIN
    everywhere); on server-level routes every user is at least a READER. A run's token is
    a CONTRIBUTOR (no more than its user is) in its own workspace only.

    Raises:
        Forbidden: the caller has no role in ``workspace``.
    """
    token = credential.token
    held = Role.ADMIN if credential.admin else credential.roles.get(workspace or "")
    scope = token.run_scope
    if scope is not None:
        name = f"run:{scope.run_id}"
        if workspace is None:
            return Principal(name, Role.READER, run_scope=scope.run_id)
        if workspace != scope.workspace:
            raise Forbidden(
                f"This token belongs to run {scope.run_id} of workspace {scope.workspace!r}; "
                f"it cannot reach workspace {workspace!r}."
            )
        if held is None:
            raise Forbidden(
                f"This run's token was issued by {token.user}, who is no longer a member "
                f"of workspace {workspace!r}."
            )
        return Principal(name, min(held, Role.CONTRIBUTOR), run_scope=scope.run_id)
    if workspace is None:
        return Principal(token.user, Role.ADMIN if credential.admin else Role.READER)
    if held is None:
        raise Forbidden(
            f"{token.user} is not a member of workspace {workspace!r}. Ask one of its "
            "owners or a server administrator to add you."
        )
    return Principal(token.user, held)


def _when(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def user_of(request: Request, principal: Principal) -> str:
    """The user behind a request's token, for the identity routes (a user's own tokens,
    who they are).

    Raises:
        Forbidden: the token is a run's: it may write its run, not manage identities.
    """
    if principal.run_scope is not None:
        raise Forbidden("A run's token cannot manage users, tokens or members.")
    credential: Credential = request.state.credential
    return credential.token.user


def forget_credentials(request: Request) -> None:
    """Drop the cached credentials after an identity change, so this process applies it
    from the next request on (other server processes within the cache's TTL)."""
    authenticator = request.app.state.authenticate
    if isinstance(authenticator, BearerAuthenticator):
        authenticator.cache.clear()


def visible_workspaces(request: Request, principal: Principal, names: list[str]) -> list[str]:
    """Of ``names``, the workspaces the caller has a role in (all for an administrator)."""
    if principal.role >= Role.ADMIN:
        return names
    credential: Credential = request.state.credential
    scope = credential.token.run_scope
    return [n for n in names if n in credential.roles and (scope is None or n == scope.workspace)]

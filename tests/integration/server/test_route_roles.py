"""Every route of ``create_app`` declares the role it needs, and a real server admits
exactly the callers at or above it: walked route by route, with every role.

A route added later is walked too; one without ``Depends(requires(Role.X))`` fails here
(only the health probes and the API document are open).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import routing
from fastapi.routing import APIRoute
from team_server import Team

from runyard.server.app import API_PREFIX, create_app
from runyard.server.auth import Role, requires
from runyard.server.settings import ServerSettings

#: Routes anyone may call: the probes, the API's own description, and how a browser signs
#: in (/auth/config; the OIDC routes, present only when configured, are tested in
#: test_oidc_signin.py).
OPEN_PATHS = {
    f"{API_PREFIX}/openapi.json",
    f"{API_PREFIX}/docs",
    "/docs/oauth2-redirect",
    "/auth/config",
}

#: The callers, and their role in workspace ``team`` (None: they have none there).
ROLES_IN_TEAM: dict[str, Role | None] = {
    "outsider": None,
    "reader": Role.READER,
    "contributor": Role.CONTRIBUTOR,
    "owner": Role.OWNER,
    "admin": Role.ADMIN,
}


@dataclass(frozen=True)
class Guarded:
    method: str
    path: str
    role: Role


def _requirements(call: Any, found: list[Role]) -> None:
    for dependency in call.dependencies:
        if isinstance(dependency.call, requires):
            found.append(dependency.call.role)
        _requirements(dependency, found)


def guarded_routes(tmp_path: Any) -> Iterator[Guarded]:
    """Each (method, path) of the app with the one role its ``requires`` names; fails for a
    route that names none (or several)."""
    app = create_app(ServerSettings(workspace=None, home=str(tmp_path / "unused")))
    # FastAPI >= 0.165 keeps included routers whole; iter_route_contexts flattens them.
    flatten = getattr(routing, "iter_route_contexts", lambda routes: routes)
    for context in flatten(app.routes):
        route = getattr(context, "original_route", context)
        path, methods = context.path, set(context.methods or ())
        if not isinstance(route, APIRoute):
            assert path in OPEN_PATHS, f"{path}: a route outside the API, not guarded"
            continue
        if path.startswith("/health/"):
            continue
        roles: list[Role] = []
        _requirements(route.dependant, roles)
        assert len(roles) == 1, f"{path} declares {roles}: give it Depends(requires(...))"
        for method in sorted(methods - {"HEAD"}):
            yield Guarded(method, path, roles[0])


def concrete(path: str) -> str:
    """A path of the template: workspace ``team``, any other parameter a missing name."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return "team" if name == "workspace" else "no-such-thing"

    return re.sub(r"\{([^}]+)\}", fill, path)


def role_for(caller: str, path: str) -> Role | None:
    """The role a caller holds on ``path``: per workspace, or READER (ADMIN for the
    administrator) on server-level routes."""
    if "{workspace}" in path:
        return ROLES_IN_TEAM[caller]
    return Role.ADMIN if caller == "admin" else Role.READER


def _sender(route: Guarded) -> Callable[[httpx.Client], httpx.Response]:
    path = concrete(route.path)
    body = None if route.method in ("GET", "DELETE") else {}  # an empty body changes nothing
    return lambda client: client.request(route.method, path, json=body)


def test_every_route_admits_exactly_the_roles_at_or_above_the_one_it_declares(
    team: Team, tmp_path
) -> None:
    routes = list(guarded_routes(tmp_path))
    declared = {(r.method, r.path): r.role for r in routes}
    # The identity routes this branch adds, with the roles the docs' table promises.
    assert declared[("POST", "/api/v1/users")] == Role.ADMIN
    assert declared[("PUT", "/api/v1/workspaces/{workspace}/members/{user}")] == Role.OWNER
    assert declared[("GET", "/api/v1/workspaces/{workspace}/members")] == Role.READER
    assert declared[("POST", "/api/v1/tokens")] == Role.READER
    clients = {caller: team.client(caller) for caller in ROLES_IN_TEAM}
    anonymous = httpx.Client(base_url=team.server.url, timeout=30)
    wrong: list[str] = []
    try:
        for route in routes:
            send = _sender(route)
            status = send(anonymous).status_code
            if status != 401:
                wrong.append(f"{route.method} {route.path} without a token: {status}")
            for caller, client in clients.items():
                held = role_for(caller, route.path)
                allowed = held is not None and held >= route.role
                status = send(client).status_code
                if allowed == (status in (401, 403)):
                    wrong.append(
                        f"{route.method} {route.path} (needs {route.role.name}) as {caller}: "
                        f"{status}, expected {'admitted' if allowed else '403'}"
                    )
    finally:
        for client in clients.values():
            client.close()
        anonymous.close()
    assert wrong == [], "\n".join(wrong)
    assert len(routes) >= 10

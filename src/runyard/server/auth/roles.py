"""Roles, principals and the per-route requirement."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from fastapi import Request

from runyard.errors import Forbidden


class Role(enum.IntEnum):
    """What a caller may do in a workspace; each role includes the ones below it."""

    READER = 1  # read everything
    CONTRIBUTOR = 2  # create runs, log, register models, submit
    OWNER = 3  # manage members, compute targets, delete
    ADMIN = 4  # the server's administrator


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    Attributes:
        name: the user's name (or ``run:RUN_ID`` for a run's token).
        role: the caller's role in the served workspace.
        run_scope: for a run-scoped token, the run it may write (with its children);
            None for a user's token.
    """

    name: str
    role: Role
    run_scope: str | None = None


class requires:  # a lower-case name: it reads as Depends(requires(Role.READER))
    """The dependency of a route that needs at least ``role``.

    ``role`` is kept on the object so tests can walk every route and read what it needs.
    """

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(self, request: Request) -> Principal:
        principal = await request.app.state.authenticate(request)
        if principal.role < self.role:
            raise Forbidden(
                f"{principal.name} is a {principal.role.name.lower()} here; this needs the "
                f"{self.role.name.lower()} role. Ask a workspace owner for it."
            )
        return principal

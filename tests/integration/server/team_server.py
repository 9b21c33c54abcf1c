"""A real server with one workspace (``team``) and a user for every role: ``team.tokens[ROLE]``
is that user's token, for ROLE in ``admin, owner, contributor, reader, outsider`` (the
outsider is a member of nothing). The users are made in the server's identity store
directly, so the setup spends none of the admin token's write rate."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from runyard.core.workspace import Workspace
from runyard.server.auth import Role
from runyard.server.identity import open_identity_store
from server_process import ServerProcess, start_server

#: The members of ``team`` made for every role: user name -> role.
MEMBERS = {"olivia": Role.OWNER, "colin": Role.CONTRIBUTOR, "rita": Role.READER}


@dataclass
class Team:
    server: ServerProcess
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> httpx.Client:
        return self.server.client(self.tokens[role])

    def new_user(self, name: str, role: str | None = None) -> str:
        """Add a user (a member of ``team`` with ``role``); their token."""
        with self.server.client() as admin:
            admin.post("/api/v1/users", json={"name": name}).raise_for_status()
            created = admin.post("/api/v1/tokens", json={"name": "first", "user": name})
            created.raise_for_status()
            if role:
                admin.put(
                    f"/api/v1/workspaces/team/members/{name}", json={"role": role}
                ).raise_for_status()
        return str(created.json()["token"])


def start_team(tmp, extra_args: list[str] | None = None) -> Team:
    """Start the server (``extra_args`` go to ``server start``) and make its users."""
    Workspace.create("team", path=tmp / "ws").close()
    server = start_server(
        str(tmp / "ws"),
        log_dir=str(tmp),
        extra_args=["--home", str(tmp / "home"), *(extra_args or [])],
        env={"RUNYARD_HOME": str(tmp / "runyard-home")},
    )
    team = Team(server, {"admin": str(server.token)})
    store = open_identity_store(server.home)
    try:
        for name, role in [*MEMBERS.items(), ("oscar", None)]:
            store.create_user(name)
            key = role.name.lower() if role else "outsider"
            team.tokens[key] = store.create_token(name, "first").secret
            if role:
                store.set_member("team", name, role)
    except BaseException:
        server.stop()
        raise
    finally:
        store.close()
    return team

"""How the executors a server starts reach its workspaces: through its API, with a token
scoped to their run, never with the server's own config.

A :class:`NodeAccess` is one served workspace's ``WorkspaceResources.node_access`` hook.
The launch route grants a run to the user who launched it; when the backend then asks for
the run's environment, a token for that user, scoped to the run (and its children) and
expiring, is minted in the identity store. :meth:`NodeAccess.revoke_ended` (called by
the server's sweeper) revokes the tokens of runs that have ended.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass

from runyard.errors import Forbidden, NotFound
from runyard.resources import ENV_TOKEN, ENV_WORKSPACE
from runyard.server.identity import IdentityStore, RunScope
from runyard.tracking.store import TrackingStore

#: How long a run's token works unless the run's own time limit is longer: a week.
DEFAULT_TOKEN_LIFETIME_S = 7 * 86400.0


@dataclass(frozen=True)
class _Grant:
    user: str
    lifetime_s: float


class NodeAccess:
    """The ``node_access`` hook of workspace ``workspace`` on the server at ``server_url``.

    Args:
        identity: where run tokens are minted and revoked.
        workspace: the served workspace's name.
        server_url: the URL the server's executors reach it at.
    """

    def __init__(self, identity: IdentityStore, workspace: str, server_url: str) -> None:
        self._identity = identity
        self._workspace = workspace
        self._server_url = server_url
        self._grants: dict[str, _Grant] = {}
        self._issued: dict[str, list[str]] = {}  # run id -> token ids
        self._lock = threading.Lock()

    def grant(self, run_id: str, user: str, max_run_duration_s: float | None = None) -> None:
        """Let run ``run_id``'s processes act for ``user`` (within the run's scope)."""
        lifetime = max(DEFAULT_TOKEN_LIFETIME_S, 2 * (max_run_duration_s or 0.0))
        with self._lock:
            self._grants[run_id] = _Grant(user, lifetime)

    def __call__(self, run_id: str) -> dict[str, str]:
        """The environment of run ``run_id``'s processes: the workspace's name and the
        server's URL as their config, and a new token scoped to the run.

        Raises:
            Forbidden: the run was not granted (no launch route asked for it).
        """
        with self._lock:
            grant = self._grants.get(run_id)
        if grant is None:
            raise Forbidden(
                f"Run {run_id!r} was not launched through this server, so its processes get "
                f"no token of workspace {self._workspace!r}."
            )
        issued = self._identity.create_token(
            grant.user,
            f"run {run_id}",
            expires_in_s=grant.lifetime_s,
            run_scope=RunScope(self._workspace, run_id),
        )
        with self._lock:
            self._issued.setdefault(run_id, []).append(issued.info.id)
        config = {"workspace_name": self._workspace, "server": self._server_url}
        return {ENV_WORKSPACE: json.dumps(config), ENV_TOKEN: issued.secret}

    def revoke_ended(self, store: TrackingStore) -> int:
        """Revoke the tokens of this server's runs that have ended; how many."""
        with self._lock:
            runs = list(self._issued)
        revoked = 0
        for run_id in runs:
            try:
                ended = store.get_run(run_id).is_terminal
            except NotFound:
                ended = True
            if not ended:
                continue
            with self._lock:
                token_ids = self._issued.pop(run_id, [])
                self._grants.pop(run_id, None)
            for token_id in token_ids:
                with contextlib.suppress(NotFound):
                    self._identity.revoke_token(token_id)
                    revoked += 1
        return revoked

"""The server's settings: declared once here, read by ``runyard server start``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from runyard.config import WorkspaceConfig
from runyard.errors import InvalidArgument

#: The port ``runyard server start`` listens on unless told otherwise.
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class OidcSettings:
    """Signing in to the web UI with an OpenID Connect provider (Keycloak, Entra ID, Google,
    Okta, Dex, ...): the authorization code flow with PKCE, as a confidential client.

    The API's token model is unchanged: a sign-in ends with an API token of the matching
    Runyard user, as ``runyard ui``'s link does.

    Attributes:
        issuer: the provider's issuer URL (its ``/.well-known/openid-configuration`` is read
            from there); https, or http on a loopback address for a provider on this machine.
        client_id: this server's client id at the provider.
        client_secret: its client secret (from ``RUNYARD_OIDC_CLIENT_SECRET``, never a
            command-line argument); it also keys the sign-in state cookie.
        username_claim: the ID token claim that names the Runyard user.
        create_users: make a (non-admin) user on first sign-in; otherwise an administrator
            creates users beforehand and a stranger is refused.
        session_hours: how long the API token a sign-in gives lasts.
    """

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    username_claim: str = "preferred_username"
    create_users: bool = False
    session_hours: float = 12.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise InvalidArgument(
                f"The OIDC issuer must be an https:// URL (http:// only on this machine), "
                f"got {self.issuer!r}."
            )
        if not self.client_id:
            raise InvalidArgument("The OIDC client id is empty: pass --oidc-client-id.")
        if len(self.client_secret) < 8:
            raise InvalidArgument(
                "The OIDC client secret is missing or shorter than 8 characters: set "
                "RUNYARD_OIDC_CLIENT_SECRET to the secret the provider gave this client."
            )
        if not self.username_claim:
            raise InvalidArgument("The OIDC username claim is empty.")
        if not 0 < self.session_hours <= 24 * 90:
            raise InvalidArgument(f"session_hours must be in (0, 2160], got {self.session_hours}.")


@dataclass(frozen=True)
class ServerSettings:
    """How one server runs.

    Attributes:
        workspace: a workspace it serves besides those in ``home`` (an embedded folder's
            config, or a database URL with an artifact location); None: only ``home``'s.
        home: the folder holding the workspaces created through the API (``NAME/``).
        host: the address to bind; 127.0.0.1 unless told otherwise.
        port: the TCP port.
        workers: uvicorn worker processes.
        max_body_mb: the largest request body a JSON route accepts, in MB (file uploads
            are sent in chunks of at most this size).
        database_url: the identity store (users, tokens, memberships): a PostgreSQL URL,
            or None for the SQLite file ``home/server.db``.
        write_rate_per_s: writes (POST, PUT, PATCH, DELETE) one token may send per second
            on average; 0: no limit.
        write_burst: how many writes one token may send at once before the rate applies.
        client_timeout_s: the longest a client may take to send a request's head, or pause
            inside its body, before the server answers 408 and closes the connection.
        access_log: write one JSON line per request to standard output.
        oidc: sign-in to the web UI through an OpenID Connect provider; None: tokens only.
    """

    workspace: WorkspaceConfig | None
    home: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    workers: int = 1
    max_body_mb: float = 32.0
    database_url: str | None = None
    write_rate_per_s: float = 200.0
    write_burst: int = 400
    client_timeout_s: float = 30.0
    access_log: bool = True
    oidc: OidcSettings | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise InvalidArgument(f"Port {self.port} is not a TCP port (0-65535).")
        if self.workers < 1:
            raise InvalidArgument(f"workers must be at least 1, got {self.workers}.")
        if not self.max_body_mb > 0:
            raise InvalidArgument(f"max_body_mb must be positive, got {self.max_body_mb}.")
        if not 0 < self.client_timeout_s <= 3600:
            raise InvalidArgument(
                f"client_timeout_s must be in (0, 3600] seconds, got {self.client_timeout_s}."
            )
        if self.write_rate_per_s < 0 or self.write_burst < 1:
            raise InvalidArgument(
                f"write_rate_per_s must be 0 (no limit) or more and write_burst at least 1, "
                f"got {self.write_rate_per_s} and {self.write_burst}."
            )

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def loopback_only(self) -> bool:
        """True when the server binds an address only this machine can reach."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

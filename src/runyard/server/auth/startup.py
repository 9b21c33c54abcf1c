"""The rule a server checks before it serves: off this machine, someone must be able to
sign in (auth is always on; a server nobody can administer is not served to a network)."""

from __future__ import annotations

from runyard.errors import InvalidState
from runyard.server.identity.store import IdentityStore
from runyard.server.settings import ServerSettings


def check_can_serve(settings: ServerSettings, store: IdentityStore) -> None:
    """Refuse to serve a non-loopback address before a first administrator exists.

    Raises:
        InvalidState: ``settings.host`` is reachable from other machines and the identity
            store has no enabled administrator; the message says how to make one.
    """
    if settings.loopback_only or store.has_admin():
        return
    raise InvalidState(
        f"Refusing to serve on {settings.host}, an address other machines reach: the server "
        "has no administrator yet, so authentication is not set up. Create the first "
        f"administrator with 'runyard server init-admin --home {settings.home}"
        + (" --database-url URL" if settings.database_url else "")
        + "', then start it again."
    )

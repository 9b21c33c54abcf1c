"""The user's API tokens for team servers: ``~/.runyard/credentials.json``.

One JSON file in the Runyard home folder (``RUNYARD_HOME``), tokens keyed by server URL::

    {"servers": {"https://runyard.example.com": {"token": "ry_...", "user": "alice"}}}

It is written atomically with mode 0600 (its folder 0700), and a file that its group or
others can read is refused rather than used: its tokens may already have leaked, so the
user is told to fix the mode (and, to be safe, revoke them). ``runyard login`` writes it;
:func:`find_token` reads it wherever a server is reached (the REST store, the CLI).

This module stays light: no SQLAlchemy, no FastAPI, no HTTP.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from runyard.errors import InvalidArgument, InvalidState
from runyard.settings import Settings

#: The file's name in the Runyard home folder.
CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class ServerLogin:
    """The token stored for one server, and whose it is."""

    server: str
    token: str
    user: str | None = None


def credentials_path(settings: Settings) -> str:
    """Where the credentials file of ``settings``'s home is."""
    return os.path.join(settings.home_dir, CREDENTIALS_FILE)


def server_key(server_url: str) -> str:
    """The key a server's token is stored under: scheme, host and port, lower case, with no
    trailing slash (``HTTP://Host:8765/`` and ``http://host:8765`` are one server).

    Raises:
        InvalidArgument: not an http(s) URL.
    """
    parts = urlsplit(server_url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(
            f"{server_url!r} is not a server URL; give one like http://127.0.0.1:8765."
        )
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def find_token(server_url: str, settings: Settings) -> str | None:
    """The token to send to ``server_url``: the explicit setting (``RUNYARD_TOKEN``) if
    any, else the one ``runyard login`` stored for that server, else None.

    Raises:
        InvalidState: the credentials file is readable by its group or others.
        InvalidArgument: the credentials file is not valid JSON of the expected shape.
    """
    # The ``token`` setting (RUNYARD_TOKEN) is declared with the REST store's settings;
    # a Settings without it has no explicit token.
    explicit = getattr(settings, "token", None)
    if explicit:
        return str(explicit)
    login = read_login(server_url, settings)
    return login.token if login else None


def read_login(server_url: str, settings: Settings) -> ServerLogin | None:
    """The login stored for ``server_url``, None when there is none (or no file)."""
    entry = _read(credentials_path(settings)).get(server_key(server_url))
    if entry is None:
        return None
    return ServerLogin(server_key(server_url), str(entry["token"]), entry.get("user"))


def save_login(login: ServerLogin, settings: Settings) -> str:
    """Store ``login`` (replacing the server's previous token); answers the file's path."""
    path = credentials_path(settings)
    servers = _read(path)
    servers[server_key(login.server)] = {"token": login.token, "user": login.user}
    _write(path, servers)
    return path


def forget_login(server_url: str, settings: Settings) -> bool:
    """Remove the token stored for ``server_url``; whether there was one."""
    path = credentials_path(settings)
    servers = _read(path)
    if servers.pop(server_key(server_url), None) is None:
        return False
    _write(path, servers)
    return True


def _read(path: str) -> dict[str, dict[str, Any]]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, encoding="utf-8") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InvalidState(
                f"Refusing to read {path}: it holds API tokens but its group or others can "
                f"read it (mode {stat.S_IMODE(mode):04o}). Make it private with "
                f"'chmod 600 {path}', and revoke its tokens if others may have seen them."
            )
        try:
            data = json.load(fh)
            servers = data["servers"]
            if not isinstance(servers, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("token"), str) for v in servers.values()
            ):
                raise TypeError("'servers' must map server URLs to {'token': ...}")
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidArgument(
                f"{path} is not a Runyard credentials file ({exc}). Move it away and log in "
                "again with 'runyard login --server URL'."
            ) from exc
    return servers


def _write(path: str, servers: dict[str, dict[str, Any]]) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    # mkstemp creates the file 0600 before anything is written to it; the rename makes
    # the new content appear whole or not at all.
    fd, temp = tempfile.mkstemp(prefix=".credentials-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"servers": servers}, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise

"""How far a workspace config is trusted: which URIs it may name, and which config files
found by searching are read at all.

A ``config.json`` can come with a cloned repository, so what it says is checked before
Runyard sends run history or files anywhere:

- The tracking URI is a database (``sqlite``, ``postgresql`` with Runyard's driver) or,
  for a team server, ``https`` (``http`` only to this machine: ``localhost``,
  ``127.0.0.1``, ``[::1]``).
- The artifact URI is a local folder, ``file``, ``s3``/``s3a``, ``az``/``abfs``/``abfss``,
  ``gs``/``gcs``, ``memory`` (tests) or ``https`` (``http`` only to this machine). fsspec's
  ``::`` chaining (``simplecache::s3://...``) and ``data:`` URLs are refused: they make a
  URL do more than name a place.
- A config found in a *parent* of the current folder (not in it, and not given
  explicitly) is read only if it is owned by you (or root) and neither it nor its folder
  can be changed by other users (a folder with the sticky bit, such as ``/tmp``, is fine
  for a file you own). This is git's ``safe.directory`` rule: anyone who can write
  ``/tmp/config.json`` would otherwise choose where a run in ``/tmp/project`` sends its
  data. Folders listed in ``RUNYARD_SAFE_DIRECTORIES`` (separated by ``os.pathsep``;
  ``*`` for all) are trusted as they are.
"""

from __future__ import annotations

import os
import re
import stat
import urllib.parse

from runyard.errors import InvalidArgument

#: Environment variable listing folders whose config files are trusted whoever owns them.
SAFE_DIRECTORIES_ENV = "RUNYARD_SAFE_DIRECTORIES"

ARTIFACT_SCHEMES = ("file", "s3", "s3a", "az", "abfs", "abfss", "gs", "gcs", "memory", "https")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_POSTGRES_DRIVER = "psycopg"


def _http_allowed(uri: str, key: str) -> None:
    host = urllib.parse.urlsplit(uri).hostname
    if host not in _LOOPBACK:
        raise InvalidArgument(
            f"{key} {uri!r} uses plain http to {host or 'no host'!r}; use https, or http only "
            "to this machine (localhost, 127.0.0.1)."
        )


def check_artifact_uri(uri: str, key: str = "artifact_uri") -> str:
    """Return ``uri`` if it names a place Runyard may write artifacts to.

    Args:
        uri: A local folder or a URL.
        key: The setting's name, for the message.

    Raises:
        InvalidArgument: ``uri`` chains protocols (``::``), is a ``data:`` URL or has a
            scheme outside the allow-list (module docstring).
    """
    if "::" in uri:
        raise InvalidArgument(
            f"{key} {uri!r} chains fsspec protocols with '::', which Runyard does not "
            "accept in a config; give one location (a folder or one URL)."
        )
    if uri.lower().startswith("data:"):
        raise InvalidArgument(f"{key} {uri!r} is a data: URL; give a folder or a storage URL.")
    match = _SCHEME.match(uri)
    if match is None:
        if "://" in uri:
            raise InvalidArgument(f"{key} {uri!r} is not a folder nor a valid URL.")
        return uri  # a local folder
    scheme = match.group(1).lower()
    if scheme == "http":
        _http_allowed(uri, key)
        return uri
    if scheme not in ARTIFACT_SCHEMES:
        raise InvalidArgument(
            f"{key} {uri!r} has the scheme {scheme!r}, which Runyard does not accept. Use "
            f"a local folder or one of: {', '.join(ARTIFACT_SCHEMES)} (http only to "
            "localhost)."
        )
    return uri


def check_tracking_uri(uri: str, key: str = "tracking_uri") -> str:
    """Return ``uri`` if it names a database (or team server) Runyard may talk to.

    Args:
        uri: A SQLAlchemy URL (``sqlite:///...``, ``postgresql://...``) or an https URL.
        key: The setting's name, for the message.

    Raises:
        InvalidArgument: the scheme is outside the allow-list (module docstring), or names
            a PostgreSQL driver other than Runyard's (psycopg).
    """
    match = _SCHEME.match(uri)
    if match is None:
        raise InvalidArgument(
            f"{key} {uri!r} is not a URL; give a database URL such as "
            "sqlite:///path/to/runyard.db or postgresql://user@host/db."
        )
    scheme = match.group(1).lower()
    backend, _, driver = scheme.partition("+")
    if scheme == "http":
        _http_allowed(uri, key)
    elif scheme == "https":
        pass
    elif backend in ("postgresql", "postgres"):
        if driver and driver != _POSTGRES_DRIVER:
            raise InvalidArgument(
                f"{key} {uri!r} names the PostgreSQL driver {driver!r}; Runyard uses psycopg "
                "3: write postgresql://... (or postgresql+psycopg://...) and install it with "
                "pip install 'runyard[postgres]'."
            )
    elif backend != "sqlite" or driver not in ("", "pysqlite"):
        raise InvalidArgument(
            f"{key} {uri!r} has the scheme {scheme!r}, which Runyard does not accept. Use "
            "sqlite:///path/to/runyard.db, postgresql://user@host/db or an https server URL."
        )
    return uri


def _safe_directories() -> list[str]:
    value = os.environ.get(SAFE_DIRECTORIES_ENV, "")
    return [entry for entry in value.split(os.pathsep) if entry]


def _is_listed_safe(file: str) -> bool:
    real = os.path.realpath(file)
    for entry in _safe_directories():
        if entry == "*":
            return True
        folder = os.path.realpath(os.path.expanduser(entry))
        if real.startswith(folder.rstrip(os.sep) + os.sep):
            return True
    return False


def _untrusted_reason(file: str) -> str | None:
    """Why ``file`` (found in a parent folder) is not trusted, or None if it is."""
    me = os.getuid()
    info = os.stat(file)
    if info.st_uid not in (me, 0):
        return f"it is owned by user id {info.st_uid}, not by you ({me})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "other users can write it (group or others have write permission)"
    folder = os.path.dirname(os.path.abspath(file))
    folder_info = os.stat(folder)
    writable = folder_info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    # With the sticky bit (/tmp), others cannot replace a file they do not own.
    if writable and not folder_info.st_mode & stat.S_ISVTX:
        return f"other users can replace it (its folder {folder} is writable by group or others)"
    return None


def check_found_config_trusted(file: str) -> None:
    """Refuse a config file found in a parent folder that other users could have written.

    Args:
        file: A config file found by searching the current folder's parents.

    Raises:
        InvalidArgument: the file or its folder is owned or writable by another user; the
            message says why and how to trust it.
    """
    if not hasattr(os, "getuid") or _is_listed_safe(file):
        return  # no POSIX owners (Windows), or trusted by the user
    reason = _untrusted_reason(file)
    if reason is None:
        return
    folder = os.path.dirname(os.path.abspath(file))
    raise InvalidArgument(
        f"Refusing the workspace config {file}, found in a parent of the current folder: "
        f"{reason}, so it could point Runyard at someone else's database or storage. If "
        f"you trust it, pass it explicitly (runyard --workspace {file}, or "
        f"Workspace.from_config({file!r})) or add {folder} to {SAFE_DIRECTORIES_ENV}."
    )


def check_server_url(url: str, key: str = "server") -> str:
    """Return ``url`` if it names a team server Runyard may send its token to: ``https``,
    or ``http`` only to this machine (a token sent in clear over a network is a leak).

    Raises:
        InvalidArgument: another scheme, plain http to another host, or a URL with a
            path, query, user or password (the server's address only).
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidArgument(f"{key} {url!r} is not a URL: {exc}.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            f"{key} {url!r} is not a server address; give https://host[:port] "
            "(http://127.0.0.1:PORT for a server on this machine)."
        )
    if (
        parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or (parts.path not in ("", "/"))
    ):
        raise InvalidArgument(
            f"{key} {url!r} must be the server's address only (scheme, host, port): no path, "
            "query or credentials. Give the token with 'runyard login' or RUNYARD_TOKEN."
        )
    if parts.scheme == "http":
        _http_allowed(url, key)
    return url

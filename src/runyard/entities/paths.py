"""Safe relative names: every artifact, file or datastore path a user gives is a relative
POSIX path that stays inside its root. Pure string checks (no file system), so records and
both sides of a run can use them."""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse

from runyard.errors import InvalidArgument

MAX_PATH_LENGTH = 1024

#: Marks the artifact store's own names: temporaries (``NAME.ry~tmp-...``) and the parts
#: of a file appended to on an object store (``NAME.ry~parts/000001``). A user's name may
#: not hold it, so a user file can never be taken for one (``x.partial`` is a plain file).
RESERVED = ".ry~"


def check_relpath(name: object, *, what: str = "file name") -> str:
    """Return ``name`` normalised if it is a safe relative POSIX path.

    Refused with ``InvalidArgument``: empty names, absolute paths (``/x``), Windows drives
    (``C:``, ``C:/x``; on Windows also ``C:x``; a colon elsewhere, as in ``a:b``, is fine),
    backslashes, NUL and control characters, names holding :data:`RESERVED` (the
    artifact store's own temporaries and parts), bidirectional controls (a right-to-left
    override makes ``evil\u202etxt.exe`` display as ``evilexe.txt``), ``..`` segments, and
    any of these hidden behind percent-encoding (``%2e%2e%2f``), however many times encoded.
    """
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"The {what} must be a non-empty string, got {name!r}.")
    if len(name) > MAX_PATH_LENGTH:
        raise InvalidArgument(
            f"The {what} is {len(name)} characters long; the limit is {MAX_PATH_LENGTH}."
        )
    decoded = name
    for _ in range(5):  # decode until stable: %252e%252e is %2e%2e is ..
        once = urllib.parse.unquote(decoded)
        if once == decoded:
            break
        decoded = once
    for candidate in (name, decoded):
        _refuse_unsafe(candidate, name, what)
    normalised = posixpath.normpath(name)
    if normalised in (".", ""):
        raise InvalidArgument(f"The {what} {name!r} does not name a file.")
    return normalised


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A drive at the start: "C:" alone or before a separator; on Windows "C:x" too (drive-relative).
# A colon elsewhere ('a:b', 'epoch:3.txt') is an ordinary character of a POSIX name.
_DRIVE = re.compile(r"[A-Za-z]:" + (r"" if os.name == "nt" else r"(?:/|\\|$)"))
# Marks, embeddings, overrides and isolates: they reorder how a name is displayed.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _refuse_unsafe(candidate: str, original: str, what: str) -> None:
    if _CONTROL.search(candidate):
        raise InvalidArgument(f"The {what} {original!r} contains NUL or control characters.")
    bidi = _BIDI.search(candidate)
    if bidi:
        raise InvalidArgument(
            f"The {what} {original!r} contains the bidirectional control character "
            f"U+{ord(bidi.group()):04X}, which makes the name display differently from what "
            "it is; rename it without that character."
        )
    if "\\" in candidate:
        raise InvalidArgument(
            f"The {what} {original!r} contains a backslash; use '/' to separate folders."
        )
    if candidate.startswith("/"):
        raise InvalidArgument(
            f"The {what} {original!r} is absolute; give a path relative to the run or store."
        )
    if _DRIVE.match(candidate):
        raise InvalidArgument(
            f"The {what} {original!r} starts with a Windows drive ({candidate[:2]!r}); give a "
            "path relative to the run or store (a colon elsewhere, as in 'a:b', is fine)."
        )
    if RESERVED in candidate:
        raise InvalidArgument(
            f"The {what} {original!r} contains {RESERVED!r}, which Runyard keeps for its own "
            "temporary files; rename it."
        )
    if ".." in candidate.split("/"):
        raise InvalidArgument(
            f"The {what} {original!r} goes up with '..'; paths must stay inside their folder."
        )


def folder_arg(path: str | None, what: str) -> str:
    """A safe relative folder; ``""`` for the root (None, ``""``, ``.``).

    Raises:
        InvalidArgument: ``..``, an absolute path, a backslash, or any of these encoded.
    """
    if path is None or path == "":
        return ""
    if isinstance(path, str) and "\\" not in path and posixpath.normpath(path) == ".":
        return ""
    return check_relpath(path.rstrip("/") if isinstance(path, str) else path, what=what)

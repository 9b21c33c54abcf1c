"""Path safety: every artifact or file name a user gives is a relative POSIX path that
stays inside its root."""

from __future__ import annotations

import os
import posixpath

from runyard.entities.paths import MAX_PATH_LENGTH, RESERVED, check_relpath
from runyard.errors import InvalidArgument

__all__ = ["MAX_PATH_LENGTH", "RESERVED", "check_local_tree", "check_relpath", "join_safe"]


def join_safe(root: str, name: str, *, what: str = "file name") -> str:
    """``root/name`` for a checked ``name``; on a local root, also refuse a result that a
    symlink inside the root resolves to outside it."""
    rel = check_relpath(name, what=what)
    joined = posixpath.join(root.rstrip("/"), rel) if root else rel
    # realpath resolves every existing component, so a symlinked folder above a file that
    # does not exist yet is caught too, not only a link at the final name.
    if root and "://" not in root:  # a folder on this machine, not an object-store URL
        real_root = os.path.realpath(root)
        real = os.path.realpath(joined)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InvalidArgument(
                f"The {what} {name!r} resolves through a symlink to {real!r}, outside {root!r}."
            )
    return joined


def check_local_tree(folder: str) -> None:
    """Refuse a folder to upload that holds a symlink pointing outside it."""
    real_root = os.path.realpath(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        for entry in (*dirnames, *filenames):
            full = os.path.join(dirpath, entry)
            if os.path.islink(full):
                real = os.path.realpath(full)
                if real != real_root and not real.startswith(real_root + os.sep):
                    raise InvalidArgument(
                        f"{full!r} is a symlink to {real!r}, outside the folder {folder!r}; "
                        "copy the file in or remove the link."
                    )

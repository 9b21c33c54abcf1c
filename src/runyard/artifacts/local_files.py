"""Local paths of datastore transfers: which local files an upload takes and under which
names, where downloaded files go, and the checks that keep both inside their folders."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from runyard.artifacts.paths import check_local_tree
from runyard.errors import InvalidArgument, NotFound


def require_file(path: str) -> int:
    """The size of a local file to upload.

    Raises:
        NotFound: ``path`` is missing or is not a file.
    """
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise NotFound(f"Cannot upload {path!r}: no such file.")
    return st.st_size


def folder_files(folder: str) -> list[tuple[str, str]]:
    """``(path, name relative to folder)`` of each file in a local folder, sorted.

    Raises:
        NotFound: ``folder`` is not a folder.
        InvalidArgument: it holds a symlink that points outside it.
    """
    if not os.path.isdir(folder):
        raise NotFound(f"Cannot upload {folder!r}: no such folder.")
    check_local_tree(folder)
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for f in sorted(filenames):
            full = os.path.join(dirpath, f)
            files.append((full, os.path.relpath(full, folder).replace(os.sep, "/")))
    return files


def files_under_root(
    files: Sequence[str | os.PathLike[str]], relative_root: str | os.PathLike[str] | None
) -> list[tuple[str, str]]:
    """``(path, name relative to relative_root)`` of each file; the root defaults to the
    deepest folder that holds them all.

    Raises:
        NotFound: a file does not exist.
        InvalidArgument: no files, one path instead of a list, or a file outside the root.
    """
    if isinstance(files, (str, os.PathLike)):
        raise InvalidArgument("files must be a list of file paths, not one path.")
    paths = list(dict.fromkeys(os.path.abspath(os.fspath(f)) for f in files))
    if not paths:
        raise InvalidArgument("upload_files got no files; give a list of file paths.")
    for p in paths:
        require_file(p)
    root = (
        os.path.abspath(os.fspath(relative_root))
        if relative_root is not None
        else os.path.commonpath([os.path.dirname(p) for p in paths])
    )
    items = []
    for p in paths:
        rel = os.path.relpath(p, root)
        if rel == ".." or rel.startswith(".." + os.sep):
            raise InvalidArgument(
                f"{p!r} is not under relative_root {root!r}; give a relative_root that holds "
                "every file."
            )
        items.append((p, rel.replace(os.sep, "/")))
    return items

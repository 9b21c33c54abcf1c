"""The store's own names beside a user's files: temporaries and appended parts.

Both hold :data:`runyard.artifacts.paths.RESERVED`, which user names may not, so they can
be recognised, hidden from listings and cleaned without ever touching a user's file:

- ``NAME.ry~tmp-HEX``: a file being written, renamed to ``NAME`` when whole. A transfer
  killed mid-way leaves it behind; it is removed by the next write of ``NAME`` (once it
  has not changed for :data:`STALE_AFTER_S`) and by ``ArtifactStore.clean_temporaries``.
- ``NAME.ry~parts/000001, 000002, ...``: data appended to ``NAME`` on an object store
  (which cannot append), one object per append; read as ``NAME``'s content after it.
"""

from __future__ import annotations

import os
import time
import uuid

from runyard.artifacts.paths import RESERVED

TEMPORARY = RESERVED + "tmp-"
PARTS = RESERVED + "parts"

#: A temporary untouched for this long belongs to a transfer that died: a live transfer
#: writes to it continuously.
STALE_AFTER_S = 15 * 60.0


def temporary_for(path: str) -> str:
    """A new temporary name beside ``path`` (same folder, so a rename is atomic)."""
    return f"{path}{TEMPORARY}{uuid.uuid4().hex[:12]}"


def parts_of(path: str) -> str:
    """The folder holding the appended parts of ``path``."""
    return path + PARTS


def part_name(index: int) -> str:
    return f"{index:06d}"


def is_reserved(name: str) -> bool:
    return RESERVED in name


def appended_file(name: str) -> str | None:
    """``NAME`` when ``name`` is a part ``NAME.ry~parts/NNNNNN``, else None."""
    head, sep, tail = name.rpartition(PARTS + "/")
    if sep and tail.isdigit() and "/" not in tail and not is_reserved(head):
        return head
    return None


def remove_stale_local(folder: str, *, prefix: str = "", older_than_s: float) -> list[str]:
    """Delete the temporaries under ``folder`` (whose names start with ``prefix``: one
    target's) untouched for ``older_than_s`` seconds; return their paths."""
    removed = []
    cutoff = time.time() - older_than_s
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            if TEMPORARY not in f or not f.startswith(prefix):
                continue
            full = os.path.join(dirpath, f)
            try:
                if os.lstat(full).st_mtime <= cutoff:
                    os.unlink(full)
                    removed.append(full)
            except FileNotFoundError:  # its transfer finished or another sweep got it
                continue
        if prefix:  # one target's temporaries live in its own folder only
            break
    return sorted(removed)

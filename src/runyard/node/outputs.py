"""Keeping what a script left in ``./outputs``: every regular file that stays inside the
folder is uploaded to the run's files; a symlink that leads outside it (or nowhere) is
refused and reported, and never costs the rest of the folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runyard.artifacts.layout import run_file_key
from runyard.errors import RunyardError

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore


@dataclass
class OutputsReport:
    """What became of a run's ``./outputs``."""

    uploaded: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "name: why"


def upload_outputs(store: ArtifactStore, run_id: str, workdir: str) -> OutputsReport:
    """Upload ``workdir/outputs`` as the run files ``outputs/...``.

    Symlinks are followed only when they resolve inside ``outputs``; anything else (a link
    out of the folder, a dangling link, a file that cannot be read) is listed in
    ``refused`` and the rest is still uploaded. So is a file the store fails to take:
    one file must not cost the others, nor the status the script earned.
    """
    report = OutputsReport()
    folder = os.path.join(workdir, "outputs")
    if not os.path.isdir(folder) or os.path.islink(folder):
        if os.path.islink(folder):
            report.refused.append("outputs: the folder itself is a symlink")
        return report
    real_root = os.path.realpath(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for d in list(dirnames):  # os.walk does not enter linked folders; report them
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                dirnames.remove(d)
                report.refused.append(f"{_rel(full, folder)}: a symlink to a folder")
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = _rel(full, folder)
            real = os.path.realpath(full)
            if os.path.islink(full) and not real.startswith(real_root + os.sep):
                report.refused.append(f"{rel}: a symlink to {real}, outside ./outputs")
                continue
            if not os.path.isfile(real):
                report.refused.append(f"{rel}: not a regular file (a dangling link?)")
                continue
            try:
                store.put_file(real, run_file_key(run_id, f"outputs/{rel}"))
            except OSError as exc:
                report.refused.append(f"{rel}: {exc.strerror or exc}")
                continue
            except RunyardError as exc:  # the store's own words (a full disk, a vanished file)
                report.refused.append(f"{rel}: {exc}")
                continue
            report.uploaded.append(f"outputs/{rel}")
    return report


def _rel(path: str, folder: str) -> str:
    return os.path.relpath(path, folder).replace(os.sep, "/")

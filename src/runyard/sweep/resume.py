"""Resuming child runs (v1's ``resume_child_runs``): a child of an earlier sweep runs again
as a child of this one, with the same hyperparameters, and its script gets
``--resume-from <folder>``: a copy of what the earlier child left in ``./outputs`` (its
checkpoints), kept with the new child's files as ``resume-from/``.

The folder is a path on the machine that holds the workspace's artifacts, so resuming needs
an embedded workspace (or any workspace whose artifacts are a local folder); elsewhere it
is refused at submission with the reason.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from runyard.artifacts.layout import run_file_key
from runyard.errors import InvalidState

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore

#: The flag the script gets, as in v1.
RESUME_FLAG = "--resume-from"
#: The new child's run files folder holding the earlier child's outputs.
RESUME_FOLDER = "resume-from"


def can_resume_children(artifacts: ArtifactStore) -> bool:
    """Whether children can be resumed with this artifact store (a local folder)."""
    return artifacts.local_path("") is not None


def checkpoint_folder(artifacts: ArtifactStore, earlier_run_id: str, run_id: str) -> str:
    """Copy ``earlier_run_id``'s ``outputs/`` into ``run_id``'s files as ``resume-from/``
    (empty when it kept none) and return that folder's local path.

    Raises:
        InvalidState: the artifacts are not a local folder.
    """
    target_prefix = run_file_key(run_id, RESUME_FOLDER)
    folder = artifacts.local_path(target_prefix)
    if folder is None:
        raise InvalidState(
            f"Cannot resume {earlier_run_id}: the workspace's artifacts are not a local "
            f"folder ({artifacts.url}), so its checkpoints have no path a script can open."
        )
    source_prefix = run_file_key(earlier_run_id, "outputs")
    for name in artifacts.list(source_prefix + "/"):
        artifacts.copy(name, f"{target_prefix}/{name[len(source_prefix) + 1 :]}")
    os.makedirs(folder, exist_ok=True)
    return folder

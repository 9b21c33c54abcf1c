"""Resuming child runs (v1's ``resume_child_runs``): a child of an earlier sweep runs again
as a child of this one, with the same hyperparameters, and its script gets
``--resume-from <folder>``: a copy of what the earlier child left in ``./outputs`` (its
checkpoints), kept with the new child's files as ``resume-from/``.

The copy is made inside the artifact store, whatever it is (a local folder, an object
store, a team server); the folder the script opens is made by its executor on the machine
where it runs (:func:`runyard.node.script.resume_folder`): the store's own folder when it is
on that disk, else a download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runyard.artifacts.layout import run_file_key
from runyard.node.script import RESUME_FOLDER, RESUME_FROM_ARGUMENT

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore

#: The flag the script gets, as in v1.
RESUME_FLAG = "--resume-from"

__all__ = ["RESUME_FLAG", "RESUME_FOLDER", "checkpoint_folder"]


def checkpoint_folder(artifacts: ArtifactStore, earlier_run_id: str, run_id: str) -> str:
    """Copy ``earlier_run_id``'s ``outputs/`` into ``run_id``'s files as ``resume-from/``
    and return the argument that stands for that folder (its executor replaces it with a
    local path).

    Raises:
        BackendError: a file could not be copied.
    """
    target_prefix = run_file_key(run_id, RESUME_FOLDER)
    source_prefix = run_file_key(earlier_run_id, "outputs")
    for name in artifacts.list(source_prefix + "/"):
        artifacts.copy(name, f"{target_prefix}/{name[len(source_prefix) + 1 :]}")
    return RESUME_FROM_ARGUMENT

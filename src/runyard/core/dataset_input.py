"""How a run consumes a dataset: SDK v1's ``DatasetConsumptionConfig``.

``dataset.as_named_input('mnist').as_mount()`` (or ``dataset.as_mount()``) goes into
``ScriptRunConfig(arguments=[...])`` or an estimator's ``inputs``/``script_params``. At
submission the dataset's files are pinned (a registered version is pinned already) and the
run definition carries them as a :class:`runyard.entities.dataset.DatasetInputSpec`; on
the node they become a folder (:mod:`runyard.node.dataset`) whose path the script gets in
its place, and in ``RUNYARD_DATAREFERENCE_<name>`` (and ``AZUREML_DATAREFERENCE_<name>``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from runyard.entities.data_reference import ENV_PREFIX
from runyard.entities.dataset import DatasetInputSpec, default_input_name
from runyard.entities.paths import check_relpath
from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.core.dataset_file import FileDataset

_NAME = re.compile(r"[A-Za-z0-9_]{1,255}")


class DatasetConsumptionConfig:
    """A dataset as a run input: its name in the run and how it arrives.

    Args:
        name: the input's name (letters, digits and ``_``).
        dataset: the file dataset.
        mode: ``"mount"`` (a read-only folder) or ``"download"`` (a writable copy in the
            working folder); SDK v1's ``"direct"`` (no mode chosen yet) mounts.
        path_on_compute: for ``download``, where the copy goes (relative to the working
            folder; default the input's name).
        overwrite: for ``download``, replace what is at ``path_on_compute``.

    Raises:
        InvalidArgument: a bad name, mode or path.
    """

    def __init__(
        self,
        name: str,
        dataset: FileDataset,
        mode: str = "direct",
        path_on_compute: str | None = None,
        overwrite: bool = False,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidArgument(
                f"Dataset input name {name!r} is not allowed: use 1-255 letters, digits and '_'."
            )
        if mode not in ("direct", "mount", "download"):
            raise InvalidArgument(f"Dataset input mode {mode!r} is unknown; use mount or download.")
        self.name = name
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = (
            check_relpath(path_on_compute, what="path_on_compute") if path_on_compute else None
        )
        self.overwrite = bool(overwrite)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The dataset as a read-only folder (``path_on_compute`` is accepted for SDK v1;
        the folder is where the node caches it)."""
        del path_on_compute  # the node's cache decides where a mounted folder is
        return DatasetConsumptionConfig(self.name, self.dataset, "mount")

    def as_download(
        self, path_on_compute: str | None = None, overwrite: bool = False
    ) -> DatasetConsumptionConfig:
        """The dataset as a writable copy at ``path_on_compute`` in the working folder."""
        return DatasetConsumptionConfig(
            self.name, self.dataset, "download", path_on_compute, overwrite
        )

    def to_spec(self) -> DatasetInputSpec:
        """The input as the run definition keeps it: an unregistered dataset's files are
        read and hashed now, so the run records exactly which data it was given.

        Raises:
            NotFound, BackendError: a file cannot be read.
        """
        files = self.dataset._pinned_files()
        return DatasetInputSpec(
            files=files,
            input_name=self.name,
            name=self.dataset.name,
            version=self.dataset.version,
            mode="download" if self.mode == "download" else "mount",
            path_on_compute=self.path_on_compute,
            overwrite=self.overwrite,
        )

    def __str__(self) -> str:
        return f"${ENV_PREFIX}{self.name}"

    def __repr__(self) -> str:
        return (
            f"DatasetConsumptionConfig(name={self.name!r}, dataset={self.dataset!r}, "
            f"mode={self.mode!r})"
        )


def default_name(dataset: FileDataset) -> str:
    """The input name of a dataset not named with ``as_named_input``: its registered
    name, or ``dataset``, and a fingerprint of its definition."""
    return default_input_name(dataset.name, dataset._definition_key())

"""Data references: a file or folder of a datastore, handed to a submitted run.

``ds.path('mnist').as_mount()`` (or ``.as_download()``) goes into ``script_params`` or
``arguments``. The submitting side stores it in the run definition as a plain JSON-safe
dict (:meth:`DataReference.to_dict`, format in :mod:`runyard.entities.data_reference`); on
the node, before the script starts, the executor turns each into a local path
(:mod:`runyard.node.data`) and passes that path to the script in its place.

``str(ref)`` is ``$RUNYARD_DATAREFERENCE_<name>`` (SDK v1 prints
``$AZUREML_DATAREFERENCE_<name>``); the executor also sets the environment variable
``RUNYARD_DATAREFERENCE_<name>`` to the resolved path, so scripts and string arguments
that use that form find it too.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from runyard.entities.data_reference import (
    ENV_PREFIX,
    FORMAT_VERSION,
    MARKER,
    DataReferenceSpec,
    is_data_reference_dict,
)
from runyard.entities.paths import check_relpath

if TYPE_CHECKING:
    from runyard.core.datastore import Datastore
    from runyard.core.workspace import Workspace

__all__ = ["DataReference", "is_data_reference_dict"]


class DataReference:
    """A file or folder of a datastore, for a run: ``ds.path('mnist').as_mount()``.

    Args:
        datastore: the datastore.
        data_reference_name: a name of letters, digits and ``_``; default made from the
            datastore's name and the path.
        path_on_datastore: a relative path in the datastore; None for its root.
        mode: ``"mount"`` (default) or ``"download"``.
        path_on_compute: for ``download``, where the copy goes, relative to the run's
            working folder.
        overwrite: for ``download``, replace what is at ``path_on_compute``.

    Raises:
        InvalidArgument: an unsafe path, a bad name or an unknown mode.
    """

    def __init__(
        self,
        datastore: Datastore,
        data_reference_name: str | None = None,
        path_on_datastore: str | None = None,
        mode: str = "mount",
        path_on_compute: str | None = None,
        overwrite: bool = False,
    ) -> None:
        self._datastore = datastore
        self._spec = DataReferenceSpec.from_dict(
            {
                MARKER: FORMAT_VERSION,
                "datastore_name": datastore.name,
                "path_on_datastore": path_on_datastore,
                "data_reference_name": data_reference_name,
                "mode": mode,
                "path_on_compute": path_on_compute,
                "overwrite": overwrite,
            }
        )

    @property
    def datastore(self) -> Datastore:
        return self._datastore

    @property
    def datastore_name(self) -> str:
        return self._spec.datastore_name

    @property
    def data_reference_name(self) -> str:
        return self._spec.data_reference_name

    @property
    def path_on_datastore(self) -> str | None:
        return self._spec.path_on_datastore

    @property
    def path_on_compute(self) -> str | None:
        return self._spec.path_on_compute

    @property
    def mode(self) -> str:
        return self._spec.mode

    @property
    def overwrite(self) -> bool:
        return self._spec.overwrite

    def as_mount(self) -> DataReference:
        """This reference, made available to the run in place (local datastore) or as a
        read-only cached copy (remote datastore)."""
        return self._with(replace(self._spec, mode="mount", path_on_compute=None, overwrite=False))

    def as_download(
        self, path_on_compute: str | None = None, overwrite: bool = False
    ) -> DataReference:
        """This reference, copied into the run's working folder at ``path_on_compute``
        (default ``<datastore>/<path>``) before the script starts.

        Raises:
            InvalidArgument: ``path_on_compute`` is not a safe relative path.
        """
        spec = replace(self._spec, mode="download", path_on_compute=path_on_compute)
        return self._with(DataReferenceSpec.from_dict({**spec.to_dict(), "overwrite": overwrite}))

    def path(
        self, path: str | None = None, data_reference_name: str | None = None
    ) -> DataReference:
        """A reference to ``path`` inside this one (same datastore and mode)."""
        base = self.path_on_datastore
        joined = path or base
        if path and base:
            joined = posixpath.join(base, check_relpath(path, what="path"))
        return DataReference(
            self._datastore,
            data_reference_name=data_reference_name,
            path_on_datastore=joined,
            mode=self.mode,
            path_on_compute=self.path_on_compute,
            overwrite=self.overwrite,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict the run definition stores (shape in this module's docstring)."""
        return self._spec.to_dict()

    @classmethod
    def from_dict(cls, data: dict[str, Any], workspace: Workspace) -> DataReference:
        """The reference a dict from :meth:`to_dict` describes, in ``workspace``.

        Raises:
            InvalidArgument: the dict is not a data reference of a known format.
            NotFound: its datastore is not registered in ``workspace``.
        """
        from runyard.core.datastore import Datastore

        spec = DataReferenceSpec.from_dict(data)
        ref = cls(Datastore.get(workspace, spec.datastore_name))
        return ref._with(spec)

    def _with(self, spec: DataReferenceSpec) -> DataReference:
        clone = object.__new__(DataReference)
        clone._datastore = self._datastore
        clone._spec = spec
        return clone

    def __str__(self) -> str:
        return f"${ENV_PREFIX}{self.data_reference_name}"

    def __repr__(self) -> str:
        return (
            f"DataReference(datastore={self.datastore_name!r}, "
            f"path_on_datastore={self.path_on_datastore!r}, mode={self.mode!r}, "
            f"path_on_compute={self.path_on_compute!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataReference) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash(self._spec)

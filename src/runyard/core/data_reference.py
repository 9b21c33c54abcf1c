"""Data references: a file or folder of a datastore, handed to a submitted run.

``ds.path('mnist').as_mount()`` (or ``.as_download()``) goes into ``script_params`` or
``arguments``. The submitting side stores it in the run definition as a plain JSON-safe
dict (:meth:`DataReference.to_dict`); on the node, before the script starts, the executor
turns each such dict into a local path with :func:`resolve_data_reference` and passes that
path to the script in its place.

The dict (format version 1; no credentials: they are read from the workspace's datastore
record on the node)::

    {
        "runyard_data_reference": 1,            # marker and format version
        "datastore_name": "workspaceblobstore",
        "path_on_datastore": "mnist",           # null: the datastore's root
        "data_reference_name": "workspaceblobstore_mnist",
        "mode": "mount",                        # or "download"
        "path_on_compute": null,                # download: folder relative to the working dir
        "overwrite": false                      # download: replace what is at path_on_compute
    }

:func:`is_data_reference_dict` tells such a dict from other argument values. ``str(ref)``
is ``$RUNYARD_DATAREFERENCE_<name>`` (SDK v1 prints ``$AZUREML_DATAREFERENCE_<name>``); an
executor that also sets the environment variable ``RUNYARD_DATAREFERENCE_<name>`` to the
resolved path lets scripts and string arguments that use that form find it too.

How a reference resolves:

- ``mount`` on a local datastore: the path of the file or folder in the datastore itself,
  used in place (nothing is copied, so a script that writes there changes the datastore).
- ``mount`` on a remote datastore: a copy in ``cache_dir``, keyed by datastore and path and
  versioned by a fingerprint of the remote listing (names, sizes, ETags), so a changed
  remote is downloaded again and an unchanged one is reused. Cached files and folders are
  made read-only so a script cannot change what the next run sees. Concurrent resolutions
  of one reference wait on a file lock and download once.
- ``download``: a writable copy at ``path_on_compute`` inside the working folder (default
  ``<datastore>/<path>``); a remote one is copied from the cache above.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from runyard.artifacts.paths import check_relpath, join_safe
from runyard.core.data_reference_cache import cached_copy, copy_writable
from runyard.core.datastore_paths import folder_arg
from runyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.core.datastore import Datastore
    from runyard.core.workspace import Workspace

#: The marker key of a serialised data reference; its value is the format version.
MARKER = "runyard_data_reference"
FORMAT_VERSION = 1
#: ``str(ref)`` and the environment variable of a resolved reference start with this.
ENV_PREFIX = "RUNYARD_DATAREFERENCE_"
MODES = ("mount", "download")

_REFERENCE_NAME = re.compile(r"[A-Za-z0-9_]{1,255}")


@dataclass(frozen=True)
class _Spec:
    datastore_name: str
    path_on_datastore: str | None
    data_reference_name: str
    mode: str
    path_on_compute: str | None
    overwrite: bool


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
        self._spec = _check(
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
        return self._with(_check({**_as_dict(spec), "overwrite": overwrite}))

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
        return _as_dict(self._spec)

    @classmethod
    def from_dict(cls, data: dict[str, Any], workspace: Workspace) -> DataReference:
        """The reference a dict from :meth:`to_dict` describes, in ``workspace``.

        Raises:
            InvalidArgument: the dict is not a data reference of a known format.
            NotFound: its datastore is not registered in ``workspace``.
        """
        from runyard.core.datastore import Datastore

        spec = _check(data)
        ref = cls(Datastore.get(workspace, spec.datastore_name))
        return ref._with(spec)

    def _with(self, spec: _Spec) -> DataReference:
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


def is_data_reference_dict(value: object) -> bool:
    """Whether ``value`` is a serialised data reference (a dict carrying the marker key)."""
    return isinstance(value, dict) and MARKER in value


def env_var_name(data_reference_name: str) -> str:
    """The environment variable an executor sets to a resolved reference's local path."""
    return ENV_PREFIX + data_reference_name


def resolve_data_reference(
    workspace: Workspace,
    ref: dict[str, Any] | DataReference,
    cache_dir: str,
    *,
    working_dir: str | None = None,
) -> str:
    """The local path a run's script gets for a data reference (see the module docstring).

    Args:
        workspace: the run's workspace (its datastore records hold the credentials).
        ref: a dict from :meth:`DataReference.to_dict` (or the reference itself).
        cache_dir: where remote datastores' files are cached (created if missing).
        working_dir: the run's working folder, base of ``path_on_compute``; default the
            current folder.

    Returns:
        An absolute path: a folder, or a file when the reference names one.

    Raises:
        InvalidArgument: a malformed dict, an unsafe path, or a ``download`` target that
            exists already without ``overwrite``.
        NotFound: the datastore is not registered, or has nothing at the path.
        MissingDependency: the datastore needs an extra that is not installed here.
        BackendError: the datastore could not be read.
    """
    from runyard.core.datastore import Datastore

    spec = _check(ref.to_dict() if isinstance(ref, DataReference) else ref)
    ds = Datastore.get(workspace, spec.datastore_name)
    path = spec.path_on_datastore or ""
    local_root = ds._artifact_store().local_path("")
    if local_root is not None:
        source = join_safe(local_root, path, what="path_on_datastore") if path else local_root
        if not os.path.exists(source):
            raise NotFound(
                f"Data reference {spec.data_reference_name!r}: datastore {ds.name!r} has no "
                f"file or folder {path!r} (in {local_root}). Upload it with ds.upload(...)."
            )
    else:
        source = cached_copy(ds, path, cache_dir)
    if spec.mode == "mount":
        return os.path.abspath(source)
    rel = spec.path_on_compute or (f"{ds.name}/{path}" if path else ds.name)
    dest = join_safe(os.path.abspath(working_dir or os.getcwd()), rel, what="path_on_compute")
    if os.path.lexists(dest) and not spec.overwrite:
        raise InvalidArgument(
            f"Data reference {spec.data_reference_name!r}: {rel!r} exists already in the "
            "working folder; pass overwrite=True to as_download() or choose another "
            "path_on_compute."
        )
    return copy_writable(source, dest)


# -- the dict ---------------------------------------------------------------------------


def _as_dict(spec: _Spec) -> dict[str, Any]:
    return {
        MARKER: FORMAT_VERSION,
        "datastore_name": spec.datastore_name,
        "path_on_datastore": spec.path_on_datastore,
        "data_reference_name": spec.data_reference_name,
        "mode": spec.mode,
        "path_on_compute": spec.path_on_compute,
        "overwrite": spec.overwrite,
    }


def _check(data: object) -> _Spec:
    """Validate a data reference dict (every field, every path) into a spec."""
    if not is_data_reference_dict(data):
        raise InvalidArgument(
            f"Not a data reference: expected a dict with {MARKER!r}, got {data!r}. Make one "
            "with ds.path('folder').as_mount()."
        )
    assert isinstance(data, dict)
    if data[MARKER] != FORMAT_VERSION:
        raise InvalidArgument(
            f"Data reference format {data[MARKER]!r} is not known to this Runyard (it reads "
            f"{FORMAT_VERSION}); submit the run with the same Runyard version as the node."
        )
    from runyard.entities.validation import check_entity_name

    datastore = check_entity_name("Datastore", data.get("datastore_name"))
    path = folder_arg(data.get("path_on_datastore"), "path_on_datastore") or None
    mode = data.get("mode", "mount")
    if mode not in MODES:
        raise InvalidArgument(f"Data reference mode {mode!r} is unknown; use one of {MODES}.")
    on_compute = data.get("path_on_compute")
    if on_compute is not None:
        on_compute = check_relpath(on_compute, what="path_on_compute")
    name = data.get("data_reference_name") or _default_name(datastore, path)
    if not isinstance(name, str) or not _REFERENCE_NAME.fullmatch(name):
        raise InvalidArgument(
            f"data_reference_name {name!r} is not allowed: use 1-255 letters, digits and '_'."
        )
    overwrite = data.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise InvalidArgument(
            f"Data reference 'overwrite' must be true or false, got {overwrite!r}."
        )
    return _Spec(datastore, path, name, mode, on_compute, overwrite)


def _default_name(datastore: str, path: str | None) -> str:
    base = f"{datastore}_{path}" if path else datastore
    return re.sub(r"[^A-Za-z0-9_]", "_", base)[:255]

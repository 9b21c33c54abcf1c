"""The data reference a run definition carries: a file or folder of a datastore, and how
the node makes it available (mount in place or a download). Plain JSON, no credentials: the
node reads those from the workspace's datastore record.

The dict (format version 1)::

    {
        "runyard_data_reference": 1,            # marker and format version
        "datastore_name": "workspaceblobstore",
        "path_on_datastore": "mnist",           # null: the datastore's root
        "data_reference_name": "workspaceblobstore_mnist",
        "mode": "mount",                        # or "download"
        "path_on_compute": null,                # download: folder relative to the working dir
        "overwrite": false                      # download: replace what is at path_on_compute
    }
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runyard.entities.paths import check_relpath, folder_arg
from runyard.entities.validation import check_entity_name
from runyard.errors import InvalidArgument

#: The marker key of a serialised data reference; its value is the format version.
MARKER = "runyard_data_reference"
FORMAT_VERSION = 1
#: ``str(ref)`` and the environment variable of a resolved reference start with this.
ENV_PREFIX = "RUNYARD_DATAREFERENCE_"
MODES = ("mount", "download")

_REFERENCE_NAME = re.compile(r"[A-Za-z0-9_]{1,255}")


@dataclass(frozen=True)
class DataReferenceSpec:
    """A checked data reference (every field, every path)."""

    datastore_name: str
    path_on_datastore: str | None
    data_reference_name: str
    mode: str
    path_on_compute: str | None
    overwrite: bool

    @classmethod
    def from_dict(cls, data: object) -> DataReferenceSpec:
        """Raises InvalidArgument for anything but a well-formed data reference dict."""
        return _check(data)

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    @property
    def env_var(self) -> str:
        """The environment variable the node sets to the resolved local path."""
        return env_var_name(self.data_reference_name)


def is_data_reference_dict(value: object) -> bool:
    """Whether ``value`` is a serialised data reference (a dict carrying the marker key)."""
    return isinstance(value, dict) and MARKER in value


def env_var_name(data_reference_name: str) -> str:
    """The environment variable an executor sets to a resolved reference's local path."""
    return ENV_PREFIX + data_reference_name


def _as_dict(spec: DataReferenceSpec) -> dict[str, Any]:
    return {
        MARKER: FORMAT_VERSION,
        "datastore_name": spec.datastore_name,
        "path_on_datastore": spec.path_on_datastore,
        "data_reference_name": spec.data_reference_name,
        "mode": spec.mode,
        "path_on_compute": spec.path_on_compute,
        "overwrite": spec.overwrite,
    }


def _check(data: object) -> DataReferenceSpec:
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
    return DataReferenceSpec(datastore, path, name, mode, on_compute, overwrite)


def _default_name(datastore: str, path: str | None) -> str:
    base = f"{datastore}_{path}" if path else datastore
    return re.sub(r"[^A-Za-z0-9_]", "_", base)[:255]

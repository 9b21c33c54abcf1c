"""Datasets: files pinned to their content, registered as versions, handed to runs.

A file dataset's definition is the list of its files, each pinned to the sha256 of its
content when the dataset was made concrete (registered, or given to a run)::

    {"files": [{"source": "datastore",           # or "url", or "local"
                "datastore": "workspaceblobstore",  # datastore files only
                "location": "mnist/train.gz",    # datastore path, URL or absolute path
                "relpath": "train.gz",           # where it appears in the dataset's folder
                "sha256": "9f86...", "size": 1234}, ...],
     "tabular": {"separator": ",", "header": true, ...}}   # tabular datasets only

Its *fingerprint* is the sha256 of the sorted ``relpath``/``sha256`` pairs: two datasets
with the same fingerprint give a run byte-identical folders.

A run receives a dataset as a :class:`DatasetInputSpec` (a dict with the marker key
``runyard_dataset`` in its definition's arguments or inputs); the node copies the pinned
files into a folder, checking every hash, and fails the run if a file changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from runyard.entities.data_reference import ENV_PREFIX
from runyard.entities.paths import check_relpath
from runyard.entities.validation import check_entity_name
from runyard.errors import InvalidArgument

#: Where a dataset's file comes from.
SOURCES = ("datastore", "url", "local")
#: The kinds of dataset SDK v1 has.
KINDS = ("file", "tabular")
#: The marker key of a serialised dataset input; its value is the format version.
MARKER = "runyard_dataset"
FORMAT_VERSION = 1
MODES = ("mount", "download")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_INPUT_NAME = re.compile(r"[A-Za-z0-9_]{1,255}")


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset, pinned to its content."""

    source: str
    location: str
    relpath: str
    sha256: str
    size: int
    datastore: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "location": self.location,
            "relpath": self.relpath,
            "sha256": self.sha256,
            "size": self.size,
        }
        if self.datastore is not None:
            out["datastore"] = self.datastore
        return out

    @classmethod
    def from_dict(cls, data: object) -> DatasetFile:
        """Raises InvalidArgument for anything but a well-formed pinned file."""
        if not isinstance(data, dict):
            raise InvalidArgument(f"A dataset file must be a dict, got {data!r}.")
        source = data.get("source")
        if source not in SOURCES:
            raise InvalidArgument(
                f"Dataset file source {source!r} is unknown; use one of {SOURCES}."
            )
        location = data.get("location")
        if not isinstance(location, str) or not location or "\x00" in location:
            raise InvalidArgument(f"Dataset file location {location!r} is not a path or URL.")
        datastore = data.get("datastore")
        if source == "datastore":
            datastore = check_entity_name("Datastore", datastore)
            location = check_relpath(location, what="dataset file path")
        elif datastore is not None:
            raise InvalidArgument(f"A {source} dataset file names no datastore.")
        elif source == "url" and not location.lower().startswith(("http://", "https://")):
            raise InvalidArgument(f"Dataset file URL {location!r} is not http(s).")
        elif source == "local" and not location.startswith("/") and ":" not in location[:3]:
            raise InvalidArgument(f"Local dataset file {location!r} is not an absolute path.")
        sha = data.get("sha256")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise InvalidArgument(f"Dataset file {location!r} has no valid sha256 ({sha!r}).")
        size = data.get("size")
        if type(size) is not int or size < 0:
            raise InvalidArgument(f"Dataset file {location!r} has no valid size ({size!r}).")
        relpath = check_relpath(data.get("relpath"), what="dataset file name")
        return cls(source, location, relpath, sha, size, datastore)


def fingerprint(files: tuple[DatasetFile, ...] | list[DatasetFile]) -> str:
    """The sha256 of a dataset's content: its files' names and hashes, sorted by name."""
    listing = sorted((f.relpath, f.sha256) for f in files)
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()


def check_files(files: object) -> tuple[DatasetFile, ...]:
    """Pinned files from their dicts, with distinct names.

    Raises:
        InvalidArgument: a malformed file, no file, or two files with one name.
    """
    if not isinstance(files, (list, tuple)) or not files:
        raise InvalidArgument("A dataset needs at least one file.")
    checked = tuple(f if isinstance(f, DatasetFile) else DatasetFile.from_dict(f) for f in files)
    seen: set[str] = set()
    for f in checked:
        if f.relpath in seen:
            raise InvalidArgument(
                f"Two files of the dataset would both be {f.relpath!r} in its folder; give "
                "paths whose file names differ."
            )
        seen.add(f.relpath)
    return checked


@dataclass
class DatasetRecord:
    """What the registry keeps of one dataset version.

    ``definition`` is the JSON dict in this module's docstring; ``fingerprint`` is the
    :func:`fingerprint` of its files.
    """

    name: str
    version: int
    kind: str
    definition: dict[str, Any]
    fingerprint: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0


@dataclass(frozen=True)
class DatasetInputSpec:
    """A dataset given to a run: its pinned files and how the node makes them available.

    The dict (format version 1)::

        {"runyard_dataset": 1, "name": "mnist" | null, "version": 2 | null,
         "fingerprint": "...", "files": [...pinned files...],
         "input_name": "mnist", "mode": "mount" | "download",
         "path_on_compute": null, "overwrite": false}
    """

    files: tuple[DatasetFile, ...]
    input_name: str
    name: str | None = None
    version: int | None = None
    mode: str = "mount"
    path_on_compute: str | None = None
    overwrite: bool = False

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.files)

    @property
    def data_reference_name(self) -> str:
        """The name the run sees it under (``RUNYARD_DATAREFERENCE_<name>``)."""
        return self.input_name

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.input_name

    def to_dict(self) -> dict[str, Any]:
        return {
            MARKER: FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "files": [f.to_dict() for f in self.files],
            "input_name": self.input_name,
            "mode": self.mode,
            "path_on_compute": self.path_on_compute,
            "overwrite": self.overwrite,
        }

    @classmethod
    def from_dict(cls, data: object) -> DatasetInputSpec:
        """Raises InvalidArgument for anything but a well-formed dataset input dict (its
        fingerprint included: a dict whose files were edited is refused)."""
        if not is_dataset_input_dict(data):
            raise InvalidArgument(
                f"Not a dataset input: expected a dict with {MARKER!r}, got {data!r}. Make "
                "one with dataset.as_mount()."
            )
        assert isinstance(data, dict)
        if data[MARKER] != FORMAT_VERSION:
            raise InvalidArgument(
                f"Dataset input format {data[MARKER]!r} is not known to this Runyard (it "
                f"reads {FORMAT_VERSION}); submit the run with the same Runyard version as "
                "the node."
            )
        files = check_files(data.get("files"))
        name = data.get("name")
        if name is not None:
            name = check_entity_name("Dataset", name)
        version = data.get("version")
        if version is not None and (type(version) is not int or version < 1):
            raise InvalidArgument(f"Dataset version {version!r} is not a positive integer.")
        input_name = data.get("input_name")
        if not isinstance(input_name, str) or not _INPUT_NAME.fullmatch(input_name):
            raise InvalidArgument(
                f"Dataset input name {input_name!r} is not allowed: use 1-255 letters, "
                "digits and '_'."
            )
        mode = data.get("mode", "mount")
        if mode not in MODES:
            raise InvalidArgument(f"Dataset input mode {mode!r} is unknown; use one of {MODES}.")
        on_compute = data.get("path_on_compute")
        if on_compute is not None:
            on_compute = check_relpath(on_compute, what="path_on_compute")
        overwrite = data.get("overwrite", False)
        if not isinstance(overwrite, bool):
            raise InvalidArgument(
                f"Dataset input 'overwrite' must be true or false, got {overwrite!r}."
            )
        spec = cls(files, input_name, name, version, mode, on_compute, overwrite)
        given = data.get("fingerprint")
        if given is not None and given != spec.fingerprint:
            raise InvalidArgument(
                f"Dataset input {input_name!r}: its fingerprint does not match its files (the "
                "run definition was changed); submit the run again."
            )
        return spec


def is_dataset_input_dict(value: object) -> bool:
    """Whether ``value`` is a serialised dataset input (a dict carrying the marker key)."""
    return isinstance(value, dict) and MARKER in value


def default_input_name(name: str | None, fingerprint_hex: str) -> str:
    """The input name of a dataset not given one with ``as_named_input``."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name) if name else "dataset"
    return f"{base}_{fingerprint_hex[:8]}"[:255]

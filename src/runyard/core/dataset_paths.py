"""Where a dataset's files are: the ``path`` argument of ``Dataset.File.from_files`` and
``Dataset.Tabular.from_delimited_files``, turned into a list of files and then pinned.

A path is one of, or a list of:

- ``(datastore, 'mnist/*')`` or ``DataPath(datastore, 'mnist')`` or ``ds.path('mnist')``:
  files of a registered datastore. A path without wildcards is a file, or a folder taken
  whole (recursively); ``*`` and ``?`` match within one folder level, ``**`` any depth.
- ``'https://host/mnist/train.gz'``: one file on a web server (http or https).
- ``'./data/*.csv'`` or ``'/abs/path'``: local files or folders (same wildcards), made
  absolute when the dataset is made. They are read where the dataset is used: a run on
  another machine fails with NotFound (upload them to a datastore instead).

Each file appears in the dataset's folder at its path relative to the deepest folder all
its files share (so ``(ds, 'mnist/*')`` gives ``train.gz``, not ``mnist/train.gz``).
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
import tempfile
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runyard.entities.dataset import DatasetFile
from runyard.entities.paths import check_relpath
from runyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.core.datastore import Datastore

_WILDCARD = re.compile(r"[*?\[]")


class DataPath:
    """A path in a datastore, as SDK v1's ``azureml.data.datapath.DataPath``.

    Args:
        datastore: the datastore.
        path_on_datastore: a relative path (wildcards allowed); None for its root.
    """

    def __init__(self, datastore: Datastore, path_on_datastore: str | None = None) -> None:
        self.datastore = datastore
        self.path_on_datastore = path_on_datastore or ""

    def __repr__(self) -> str:
        return f"DataPath({self.datastore.name!r}, {self.path_on_datastore!r})"


@dataclass(frozen=True)
class Source:
    """One checked entry of a ``path`` argument."""

    kind: str  # "datastore" | "url" | "local"
    pattern: str  # path on the datastore, URL, or absolute local path (wildcards kept)
    datastore: Datastore | None = None


@dataclass(frozen=True)
class Listed:
    """A file found for a source, not yet hashed."""

    source: str
    location: str
    key: str  # its path in a namespace shared by every source, for the common folder
    datastore: Datastore | None = None


def parse_paths(path: Any) -> list[Source]:
    """The sources a ``path`` argument names (see the module docstring).

    Raises:
        InvalidArgument: an entry of another shape, or an unsafe datastore path.
    """
    entries = path if isinstance(path, list) else [path]
    if not entries:
        raise InvalidArgument("path is empty: give at least one (datastore, path), URL or file.")
    return [_source(entry) for entry in entries]


def _source(entry: Any) -> Source:
    from runyard.core.data_reference import DataReference
    from runyard.core.datastore import Datastore

    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], Datastore):
        return _datastore_source(entry[0], entry[1])
    if isinstance(entry, DataPath):
        return _datastore_source(entry.datastore, entry.path_on_datastore)
    if isinstance(entry, DataReference):
        return _datastore_source(entry.datastore, entry.path_on_datastore)
    if isinstance(entry, (str, os.PathLike)):
        text = os.fspath(entry)
        scheme = urllib.parse.urlsplit(text).scheme.lower()
        if scheme in ("http", "https"):
            if _WILDCARD.search(urllib.parse.urlsplit(text).path):
                raise InvalidArgument(f"{text}: a URL names one file; wildcards are not allowed.")
            return Source("url", text)
        if len(scheme) > 1:  # not a Windows drive letter
            raise InvalidArgument(
                f"{text}: {scheme}:// paths are read through a datastore. Register one "
                "(Datastore.register_fsspec/register_s3...) and pass (datastore, 'path')."
            )
        return Source("local", os.path.abspath(text))
    raise InvalidArgument(
        f"A dataset path must be (datastore, 'path'), DataPath(datastore, 'path'), an "
        f"http(s) URL or a local path, got {type(entry).__name__} {entry!r}."
    )


def _datastore_source(datastore: Datastore, path: Any) -> Source:
    if path is None or path in ("", ".", "/"):
        return Source("datastore", "", datastore)
    if not isinstance(path, str):
        raise InvalidArgument(f"The path in ({datastore.name!r}, path) must be a string.")
    return Source("datastore", check_relpath(path.strip("/"), what="datastore path"), datastore)


def list_files(sources: Iterable[Source]) -> list[Listed]:
    """Every file the sources name, in order, each once.

    Raises:
        NotFound: a source matches no file.
    """
    found: dict[str, Listed] = {}
    for source in sources:
        if source.kind == "url":
            parts = urllib.parse.urlsplit(source.pattern)
            key = f"{parts.netloc}{parts.path}".strip("/")
            listed = [Listed("url", source.pattern, key)]
        elif source.kind == "local":
            listed = _local(source.pattern)
        else:
            listed = _on_datastore(source)
        if not listed:
            raise NotFound(f"{_describe(source)} matches no file.")
        for item in listed:
            found.setdefault(item.key, item)
    return list(found.values())


def pin(listed: list[Listed]) -> tuple[DatasetFile, ...]:
    """Hash every listed file (reading it once) into the files of a dataset version.

    Raises:
        NotFound, BackendError: a file cannot be read.
    """
    from runyard.node.dataset import download_url, sha256_of

    names = relpaths([item.key for item in listed])
    files = []
    for item, relpath in zip(listed, names, strict=True):
        if item.source == "local":
            digest, size = sha256_of(item.location)
        else:
            with tempfile.TemporaryDirectory(prefix="runyard-pin-") as tmp:
                local = os.path.join(tmp, "file")
                if item.source == "url":
                    download_url(item.location, local)
                else:
                    assert item.datastore is not None
                    local = _datastore_file(item.datastore, item.location, local)
                digest, size = sha256_of(local)
        datastore = item.datastore.name if item.datastore is not None else None
        files.append(DatasetFile(item.source, item.location, relpath, digest, size, datastore))
    return tuple(files)


def relpaths(keys: list[str]) -> list[str]:
    """Each key relative to the deepest folder all keys share (a single file: its name)."""
    folders = [posixpath.dirname(k) for k in keys]
    common = posixpath.commonpath(folders) if all(folders) else ""
    return [k[len(common) + 1 :] if common else k for k in keys]


def _datastore_file(datastore: Datastore, name: str, scratch: str) -> str:
    """A local path of a datastore's file: in place for a local datastore, else a copy."""
    store = datastore._artifact_store()
    try:
        local = store.local_path(name)
        if local is not None and os.path.isfile(local):
            return local
        store.get_file(name, scratch)
        return scratch
    finally:
        store.close()


def _on_datastore(source: Source) -> list[Listed]:
    assert source.datastore is not None
    pattern = source.pattern
    match = _WILDCARD.search(pattern)
    prefix = posixpath.dirname(pattern[: match.start()] + "x") if match else pattern
    store = source.datastore._artifact_store()
    try:
        names = store.list(prefix)
    finally:
        store.close()
    if match:
        regex = _glob_regex(pattern)
        names = [n for n in names if regex.fullmatch(n)]
    elif pattern:
        names = [n for n in names if n == pattern or n.startswith(pattern + "/")]
    name = source.datastore.name
    return [Listed("datastore", n, f"{name}/{n}", source.datastore) for n in sorted(names)]


def _local(pattern: str) -> list[Listed]:
    if _WILDCARD.search(pattern):
        matched = sorted(glob.glob(pattern, recursive=True))
    else:
        matched = [pattern] if os.path.exists(pattern) else []
    files = []
    for path in matched:
        if os.path.isdir(path):
            for dirpath, dirs, names in os.walk(path):
                dirs.sort()
                files += [os.path.join(dirpath, n) for n in sorted(names)]
        elif os.path.isfile(path):
            files.append(path)
    return [Listed("local", f, f.replace(os.sep, "/").lstrip("/")) for f in files]


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` within a folder level, ``**`` across levels, ``[...]`` classes."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _describe(source: Source) -> str:
    if source.kind == "datastore":
        assert source.datastore is not None
        return f"Path {source.pattern or '(root)'!r} of datastore {source.datastore.name!r}"
    return f"{'URL' if source.kind == 'url' else 'Local path'} {source.pattern}"

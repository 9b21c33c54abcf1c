"""Moving files between this machine and a datastore: listings with sizes and change tags,
a rich progress bar over bytes and files, and parallel transfers that skip what exists.

The bytes themselves go through the :class:`~runyard.artifacts.store.ArtifactStore` adapter
(``put_file``/``get_file``), which never leaves a half-written file under its final name;
this module only decides what to move and reports it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runyard.artifacts.local_files import require_file
from runyard.artifacts.paths import check_relpath, join_safe
from runyard.artifacts.progress import TransferProgress, console_print
from runyard.errors import BackendError, NotFound, RunyardError

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore

#: Files moved at once: object stores are latency-bound, so a few in flight pay off.
MAX_PARALLEL_TRANSFERS = 8

# Keys fsspec adapters use for a value that changes when an object's content changes,
# most specific first (S3 and Azure ETag, GCS md5/generation, local mtime).
_CHANGE_TAG_KEYS = (
    "ETag",
    "etag",
    "md5Hash",
    "generation",
    "mtime",
    "LastModified",
    "last_modified",
)


@dataclass(frozen=True)
class Entry:
    """One file of a datastore: its name relative to the datastore root, size and change tag."""

    name: str
    size: int
    tag: str


@dataclass(frozen=True)
class TransferReport:
    """What a transfer did."""

    transferred: int
    skipped: int
    bytes: int


def list_entries(store: ArtifactStore, prefix: str, storage_options: dict[str, Any]) -> list[Entry]:
    """Files under ``prefix`` (a folder or one file; ``""`` is the root), sorted by name.

    On a local datastore, a symlink that points at nothing is left out, with one line on
    stderr naming it (there are no bytes to transfer, and the other files still are).

    Raises:
        BackendError: the datastore cannot be listed.
    """
    described = store.describe(prefix)
    if described is not None:
        return [Entry(name, size, tag) for name, size, tag in described]
    local_root = store.local_path("")
    if local_root is not None:
        entries = []
        broken = []
        for name in store.list(prefix):
            try:
                st = os.stat(os.path.join(local_root, *name.split("/")))
            except FileNotFoundError:
                # A symlink to nothing (or a file deleted since the listing) holds no bytes
                # to move: skipped and reported, so that one bad link does not stop the rest.
                broken.append(name)
                continue
            entries.append(Entry(name, st.st_size, f"{st.st_mtime_ns}"))
        if broken:
            shown = ", ".join(repr(n) for n in broken[:5]) + (", ..." if len(broken) > 5 else "")
            console_print(
                f"Skipped {len(broken)} entries that point at nothing (broken symlinks or files "
                f"deleted meanwhile): {shown}. Fix or remove them in {local_root}."
            )
        return entries
    from fsspec.core import url_to_fs

    try:
        fs, root = url_to_fs(store.url, **storage_options)
        root = root.rstrip("/")
        base = f"{root}/{prefix}" if prefix else root
        # Listings are cached per filesystem instance; another process may have changed it.
        fs.invalidate_cache(base)
        found = fs.find(base, detail=True)
    except FileNotFoundError:
        return []
    except RunyardError:
        raise
    except Exception as exc:  # adapters raise their own types (botocore, azure, google)
        raise BackendError(f"Could not list {store.url!r}: {exc}") from exc
    entries = []
    for path, info in found.items():
        if not path.startswith(root + "/") or info.get("type") == "directory":
            continue
        tag = next((str(info[k]) for k in _CHANGE_TAG_KEYS if info.get(k) is not None), "")
        entries.append(Entry(path[len(root) + 1 :], int(info.get("size") or 0), tag))
    return sorted(entries, key=lambda e: e.name)


def run_transfers(
    items: Sequence[tuple[str, int]],
    transfer: Callable[[str], None],
    progress: TransferProgress,
    *,
    what: str,
    parallel: int,
) -> None:
    """Call ``transfer(key)`` for each ``(key, size)``, ``parallel`` at a time, advancing
    ``progress`` as each one finishes.

    On the first failure, transfers not yet started are dropped and the error is raised
    again, of the same class, saying how many files were moved whole before it.
    """
    done = 0
    if parallel <= 1 or len(items) <= 1:
        for key, size in items:
            try:
                transfer(key)
            except Exception as exc:
                raise _stopped(what, key, exc, done, len(items)) from exc
            done += 1
            progress.advance(size)
        return
    failure: tuple[str, BaseException] | None = None
    with ThreadPoolExecutor(max_workers=min(parallel, len(items))) as pool:
        futures = {pool.submit(transfer, key): (key, size) for key, size in items}
        for future in as_completed(futures):
            if future.cancelled():
                continue
            key, size = futures[future]
            error = future.exception()
            if error is None:
                done += 1
                progress.advance(size)
            elif failure is None:
                failure = (key, error)
                for other in futures:
                    other.cancel()
    if failure is not None:
        raise _stopped(what, failure[0], failure[1], done, len(items)) from failure[1]


def _stopped(what: str, key: str, exc: BaseException, done: int, total: int) -> RunyardError:
    cls = type(exc) if isinstance(exc, RunyardError) else BackendError
    return cls(
        f"{what} stopped at {key!r}: {exc}. {done} of {total} files were transferred whole "
        "and no partial file was left behind; run it again without overwrite=True to "
        "transfer the rest."
    )


def parallelism(store: ArtifactStore) -> int:
    """Files to move at once: one on a local disk (copies are disk-bound and a pool only
    adds overhead), several on an object store (latency-bound)."""
    return 1 if store.local_path("") is not None else MAX_PARALLEL_TRANSFERS


def human_bytes(n: int) -> str:
    """Sizes in the progress bar's units (decimal: 1 MB = 1,000,000 bytes)."""
    from rich.filesize import decimal

    return decimal(n)


def upload_items(
    store: ArtifactStore,
    storage_options: dict[str, Any],
    files: Sequence[tuple[str, str]],
    target: str,
    *,
    overwrite: bool,
    show_progress: bool,
    what: str,
) -> TransferReport:
    """Upload ``(local path, relative name)`` pairs under the folder ``target``.

    Every name is checked before anything moves; names that exist are skipped (and
    reported in one line) unless ``overwrite``.
    """
    names: dict[str, str] = {}
    for full, rel in files:
        name = check_relpath(posixpath.join(target, rel) if target else rel, what="file name")
        names[name] = full
    existing = set()
    if not overwrite:
        existing = {e.name for e in list_entries(store, target, storage_options)}
    todo = [(n, require_file(p)) for n, p in names.items() if n not in existing]
    total = sum(size for _n, size in todo)
    with TransferProgress(
        "Uploading", total, len(todo), enabled=show_progress and bool(todo)
    ) as bar:
        run_transfers(
            todo,
            lambda n: store.put_file(names[n], n),
            bar,
            what=f"Upload to {what}",
            parallel=parallelism(store),
        )
    report = TransferReport(len(todo), len(names) - len(todo), total)
    where = f"to {what} under {target!r}." if target else f"to {what}."
    _summarise(report, show_progress, "Uploaded", where)
    return report


def download_tree(
    store: ArtifactStore,
    storage_options: dict[str, Any],
    source: str,
    out: str,
    *,
    overwrite: bool,
    show_progress: bool,
    what: str,
) -> TransferReport:
    """Download the files under ``source`` into the local folder ``out``, each under its
    full name; local files that exist are kept (and reported) unless ``overwrite``.

    Raises:
        NotFound: ``source`` names nothing.
        InvalidArgument: a stored name is unsafe, or a symlink in ``out`` leads outside it.
    """
    entries = list_entries(store, source, storage_options)
    if source and not entries:
        raise NotFound(f"{what} has nothing under {source!r} to download.")
    targets: dict[str, str] = {}
    todo = []
    for e in entries:
        local = join_safe(out, e.name, what="datastore file name")
        if overwrite or not os.path.exists(local):
            targets[e.name] = local
            todo.append((e.name, e.size))
    total = sum(size for _n, size in todo)
    with TransferProgress(
        "Downloading", total, len(todo), enabled=show_progress and bool(todo)
    ) as bar:
        run_transfers(
            todo,
            lambda n: store.get_file(n, targets[n]),
            bar,
            what=f"Download from {what}",
            parallel=parallelism(store),
        )
    report = TransferReport(len(todo), len(entries) - len(todo), total)
    _summarise(report, show_progress, "Downloaded", f"from {what} to {out}.")
    return report


def _summarise(report: TransferReport, show_progress: bool, verb: str, where: str) -> None:
    if report.skipped:
        console_print(
            f"Skipped {report.skipped} existing files; pass overwrite=True to replace them."
        )
    if show_progress and report.transferred:
        size = human_bytes(report.bytes)
        console_print(f"{verb} {report.transferred} files ({size}) {where}")

"""Registering datastores: where each kind keeps its files (URL + fsspec options), the
checks made before a datastore is recorded, and finding a registered one by name."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from runyard.entities.datastore import DatastoreRecord
from runyard.entities.paths import folder_arg
from runyard.entities.validation import check_entity_name
from runyard.errors import (
    AlreadyExists,
    BackendError,
    InvalidArgument,
    NotFound,
    RunyardError,
    missing_extra,
)

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace

Target = tuple[str, dict[str, Any]]


def local_target(path: str | os.PathLike[str], create: bool) -> str:
    """The absolute folder of a local datastore.

    Raises:
        NotFound: the folder does not exist and ``create`` is False.
        InvalidArgument: ``path`` is a file.
    """
    folder = os.path.abspath(os.fspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InvalidArgument(f"Datastore folder {folder!r} is a file; give a folder.")
    if not os.path.isdir(folder):
        if not create:
            raise NotFound(
                f"Datastore folder {folder!r} does not exist. Create it first or pass "
                "create_if_not_exists=True."
            )
        os.makedirs(folder, exist_ok=True)
    return folder


def azure_target(
    container_name: str,
    account_name: str,
    sas_token: str | None,
    account_key: str | None,
    protocol: str | None,
    endpoint: str | None,
) -> Target:
    if protocol not in (None, "https"):
        raise InvalidArgument(
            f"protocol {protocol!r} is not supported for Azure Blob datastores; use 'https'."
        )
    if not isinstance(account_name, str) or not account_name:
        raise InvalidArgument(f"account_name must be a storage account name, got {account_name!r}.")
    require("adlfs", "azure")
    options: dict[str, Any] = {"account_name": account_name}
    if sas_token:
        options["sas_token"] = sas_token
    if account_key:
        options["account_key"] = account_key
    if endpoint and endpoint != "core.windows.net":
        options["account_host"] = f"{account_name}.blob.{endpoint}"
    return f"az://{bucket_name(container_name, 'container_name')}", options


def s3_target(
    bucket: str,
    prefix: str | None,
    endpoint_url: str | None,
    key: str | None,
    secret: str | None,
) -> Target:
    if bool(key) != bool(secret):
        raise InvalidArgument("Give both key and secret for an S3 datastore, or neither.")
    require("s3fs", "s3")
    options: dict[str, Any] = {}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if key:
        options.update(key=key, secret=secret)
    return _bucket_url("s3", bucket_name(bucket, "bucket"), prefix), options


def gcs_target(bucket: str, prefix: str | None, project: str | None, token: str | None) -> Target:
    require("gcsfs", "gcs")
    options = {k: v for k, v in (("project", project), ("token", token)) if v}
    return _bucket_url("gs", bucket_name(bucket, "bucket"), prefix), options


def fsspec_kind(url: str, storage_options: dict[str, Any] | None) -> str:
    """``local`` or ``fsspec``, after checking that fsspec can open ``url`` here.

    Raises:
        MissingDependency: the URL's protocol needs an extra that is not installed.
        BackendError: fsspec does not know the protocol.
    """
    if not isinstance(url, str) or not url:
        raise InvalidArgument(f"url must be a non-empty fsspec URL, got {url!r}.")
    from runyard.artifacts.store import FsspecArtifactStore

    # Opening it turns a missing extra or an unknown protocol into a clear error now.
    FsspecArtifactStore(url, storage_options)
    return "local" if "://" not in url or url.startswith(("file://", "local://")) else "fsspec"


def check_bucket(url: str, options: dict[str, Any], bucket: str, what: str, create: bool) -> None:
    """Check that a bucket or container exists (creating it when asked).

    Raises:
        NotFound: it does not exist and ``create`` is False.
        BackendError: it cannot be reached (credentials, endpoint, network).
    """
    from fsspec.core import url_to_fs

    try:
        fs, _root = url_to_fs(url, **options)
        if fs.exists(bucket):
            return
        if not create:
            raise NotFound(
                f"{what} {bucket!r} does not exist. Create it, or pass create_if_not_exists=True."
            )
        fs.mkdir(bucket)
    except RunyardError:
        raise
    except Exception as exc:  # each adapter raises its own types (botocore, azure, google)
        raise BackendError(
            f"Could not reach {what} {bucket!r}: {exc}. Check the credentials and endpoint, "
            "or pass skip_validation=True to register it without checking."
        ) from exc


def save(
    workspace: Workspace,
    name: str,
    url: str,
    kind: str,
    options: dict[str, Any],
    overwrite: bool,
) -> DatastoreRecord:
    """Record a datastore; replacing the default keeps it the default.

    Raises:
        AlreadyExists: the name is taken and ``overwrite`` is False.
    """
    check_entity_name("Datastore", name)
    is_default = False
    if overwrite:
        try:
            is_default = workspace.resources.store.get_datastore(name).is_default
        except NotFound:
            is_default = False
    record = DatastoreRecord(name, url, kind=kind, options=options, is_default=is_default)
    try:
        workspace.resources.store.save_datastore(record, overwrite=overwrite)
    except AlreadyExists:
        raise AlreadyExists(
            f"Datastore {name!r} is registered already in workspace {workspace.name!r}; "
            "pass overwrite=True to replace it."
        ) from None
    return record


def lookup(workspace: Workspace, name: str | None) -> DatastoreRecord:
    """The record of the named datastore (the default one for None).

    Raises:
        NotFound: no such datastore; the message lists the registered ones.
    """
    if name is not None:
        check_entity_name("Datastore", name)
    try:
        return workspace.resources.store.get_datastore(name)
    except NotFound:
        if name is None:
            raise
        known = (
            ", ".join(sorted(r.name for r in workspace.resources.store.list_datastores())) or "none"
        )
        raise NotFound(
            f"Datastore {name!r} not found in workspace {workspace.name!r}. Known datastores: "
            f"{known}. Register it with Datastore.register_local(ws, {name!r}, path) or "
            "Datastore.register_s3/register_azure_blob_container/register_gcs(...)."
        ) from None


def require(module: str, extra: str) -> None:
    """Raises MissingDependency with the install hint when ``module`` cannot be imported."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(module, extra) from exc


def bucket_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise InvalidArgument(
            f"{what} must be a bucket or container name without '/', got {name!r}."
        )
    return name


def _bucket_url(scheme: str, bucket: str, prefix: str | None) -> str:
    folder = folder_arg(prefix, "prefix")
    return f"{scheme}://{bucket}/{folder}" if folder else f"{scheme}://{bucket}"

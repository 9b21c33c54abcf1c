"""Datastore: a named place where data lives, with the Azure ML SDK v1 names.

A datastore is a local folder used in place (``Datastore.register_local``; the default
``workspaceblobstore`` of an embedded workspace is one) or an fsspec location in object
storage: S3 (``runyard[s3]``), Azure Blob (``runyard[azure]``), GCS (``runyard[gcs]``) or
any other fsspec URL. Files move through the ArtifactStore adapter on the datastore's URL,
so a failed transfer never leaves a half-written file under its final name.

Credentials given at registration are kept in the workspace's database with the datastore,
as the SDK v1 workspace kept them; leave them out to use the environment's own (AWS
profile, ``AZURE_STORAGE_*`` variables, Google application default credentials).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from runyard.artifacts.datastores import datastore_artifact_store, datastore_storage_options
from runyard.artifacts.local_files import files_under_root, folder_files
from runyard.artifacts.transfer import download_tree, upload_items
from runyard.core import datastore_registration as reg
from runyard.entities.paths import folder_arg

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.core.data_reference import DataReference
    from runyard.core.workspace import Workspace
    from runyard.entities.datastore import DatastoreRecord

#: Record kind -> the SDK-v1-style ``datastore_type``.
DATASTORE_TYPES = {
    "local": "Local",
    "s3": "S3",
    "azure_blob": "AzureBlob",
    "gcs": "GCS",
    "fsspec": "Fsspec",
}


class Datastore:
    """A registered datastore of a workspace.

    ``Datastore(ws, name)`` gets a registered datastore (the default one without a name),
    like :meth:`get`.

    Raises:
        NotFound: no datastore of that name (the message lists the registered ones).
    """

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        *,
        _record: DatastoreRecord | None = None,
    ) -> None:
        self._workspace = workspace
        self._record = _record if _record is not None else reg.lookup(workspace, name)

    # -- finding -------------------------------------------------------------------
    @classmethod
    def _from_record(cls, workspace: Workspace, record: DatastoreRecord) -> Datastore:
        return cls(workspace, _record=record)

    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> Datastore:
        """The datastore registered as ``datastore_name``.

        Raises:
            NotFound: no such datastore; the message lists the registered ones.
        """
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace: Workspace) -> Datastore:
        """The workspace's default datastore (same as ``ws.get_default_datastore()``)."""
        return Datastore(workspace)

    # -- registering ---------------------------------------------------------------
    @staticmethod
    def register_local(
        workspace: Workspace,
        name: str,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        create_if_not_exists: bool = False,
    ) -> Datastore:
        """Register a folder on this machine as a datastore; its files are used in place.

        Runs on this machine see the folder itself (a data reference resolves to its path),
        so a script that writes there changes the datastore.

        Raises:
            NotFound: the folder does not exist and ``create_if_not_exists`` is False.
            InvalidArgument: a bad name, or ``path`` is a file.
            AlreadyExists: the name is taken and ``overwrite`` is False.
        """
        folder = reg.local_target(path, create_if_not_exists)
        return _register(workspace, name, folder, "local", {}, overwrite)

    @staticmethod
    def register_azure_blob_container(
        workspace: Workspace,
        datastore_name: str,
        container_name: str,
        account_name: str,
        sas_token: str | None = None,
        account_key: str | None = None,
        protocol: str | None = None,
        endpoint: str | None = None,
        overwrite: bool = False,
        create_if_not_exists: bool = False,
        skip_validation: bool = False,
    ) -> Datastore:
        """Register an Azure Blob container (``az://``, needs ``runyard[azure]``).

        Args:
            workspace: the workspace.
            datastore_name: the datastore's name.
            container_name: the blob container.
            account_name: the storage account.
            sas_token: a SAS token; or ``account_key``; neither uses the environment's
                Azure credentials.
            account_key: the storage account key.
            protocol: ``"https"`` (the only one supported; ``None`` means https).
            endpoint: the storage endpoint suffix, default ``core.windows.net``.
            overwrite: replace a datastore registered under this name.
            create_if_not_exists: create the container when it does not exist.
            skip_validation: register without checking that the container is reachable.

        Raises:
            MissingDependency: adlfs is not installed (``pip install 'runyard[azure]'``).
            NotFound: the container does not exist (and ``create_if_not_exists`` is False).
            BackendError: the account cannot be reached with these credentials.
        """
        url, options = reg.azure_target(
            container_name, account_name, sas_token, account_key, protocol, endpoint
        )
        if not skip_validation:
            reg.check_bucket(
                url, options, container_name, "Azure Blob container", create_if_not_exists
            )
        return _register(workspace, datastore_name, url, "azure_blob", options, overwrite)

    @staticmethod
    def register_s3(
        workspace: Workspace,
        name: str,
        bucket: str,
        prefix: str | None = None,
        endpoint_url: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        overwrite: bool = False,
        create_if_not_exists: bool = False,
        skip_validation: bool = False,
    ) -> Datastore:
        """Register an S3 bucket, or a folder in one, as a datastore (needs ``runyard[s3]``).

        Args:
            workspace: the workspace.
            name: the datastore's name.
            bucket: the bucket.
            prefix: a folder inside the bucket that is the datastore's root.
            endpoint_url: an S3-compatible server (MinIO, Ceph...), default AWS.
            key: the access key id; without ``key``/``secret`` the environment's AWS
                credentials are used.
            secret: the secret access key.
            overwrite: replace a datastore registered under this name.
            create_if_not_exists: create the bucket when it does not exist.
            skip_validation: register without checking that the bucket is reachable.

        Raises:
            MissingDependency: s3fs is not installed (``pip install 'runyard[s3]'``).
            NotFound: the bucket does not exist (and ``create_if_not_exists`` is False).
            BackendError: the server cannot be reached with these credentials.
        """
        url, options = reg.s3_target(bucket, prefix, endpoint_url, key, secret)
        if not skip_validation:
            reg.check_bucket(url, options, bucket, "S3 bucket", create_if_not_exists)
        return _register(workspace, name, url, "s3", options, overwrite)

    @staticmethod
    def register_gcs(
        workspace: Workspace,
        name: str,
        bucket: str,
        prefix: str | None = None,
        project: str | None = None,
        token: str | None = None,
        overwrite: bool = False,
        create_if_not_exists: bool = False,
        skip_validation: bool = False,
    ) -> Datastore:
        """Register a Google Cloud Storage bucket as a datastore (needs ``runyard[gcs]``).

        Args:
            workspace: the workspace.
            name: the datastore's name.
            bucket: the bucket.
            prefix: a folder inside the bucket that is the datastore's root.
            project: the Google Cloud project.
            token: what gcsfs accepts as a token: a service-account JSON file,
                ``"google_default"``, ``"anon"``...; default the environment's credentials.
            overwrite: replace a datastore registered under this name.
            create_if_not_exists: create the bucket when it does not exist.
            skip_validation: register without checking that the bucket is reachable.

        Raises:
            MissingDependency: gcsfs is not installed (``pip install 'runyard[gcs]'``).
            NotFound: the bucket does not exist (and ``create_if_not_exists`` is False).
            BackendError: the bucket cannot be reached with these credentials.
        """
        url, options = reg.gcs_target(bucket, prefix, project, token)
        if not skip_validation:
            reg.check_bucket(url, options, bucket, "GCS bucket", create_if_not_exists)
        return _register(workspace, name, url, "gcs", options, overwrite)

    @staticmethod
    def register_fsspec(
        workspace: Workspace,
        name: str,
        url: str,
        storage_options: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Datastore:
        """Register any fsspec URL (``s3://b/p``, ``sftp://host/p``, a local path...) as a
        datastore, with the fsspec ``storage_options`` its filesystem takes.

        Raises:
            MissingDependency: the URL's protocol needs an extra that is not installed.
            BackendError: fsspec does not know the protocol (the message lists known ones).
        """
        kind = reg.fsspec_kind(url, storage_options)
        return _register(workspace, name, url, kind, dict(storage_options or {}), overwrite)

    def set_as_default(self) -> None:
        """Make this datastore the workspace's default."""
        self._workspace.set_default_datastore(self.name)
        self._record.is_default = True

    # -- what it is ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def datastore_type(self) -> str:
        """``Local``, ``S3``, ``AzureBlob``, ``GCS`` or ``Fsspec``."""
        return DATASTORE_TYPES.get(self._record.kind, self._record.kind)

    @property
    def url(self) -> str:
        """Where the files are: a local folder or an fsspec URL (no credentials in it)."""
        return self._record.url

    @property
    def is_default(self) -> bool:
        return self._record.is_default

    @property
    def is_local(self) -> bool:
        """True when the files are in a folder of this machine (used in place by runs)."""
        if self._workspace.config.server:
            return False  # a team server's datastore: its files come through the server
        store = self._artifact_store()
        try:
            return store.local_path("") is not None
        finally:
            store.close()

    # -- data references -----------------------------------------------------------
    def path(
        self, path: str | None = None, data_reference_name: str | None = None
    ) -> DataReference:
        """A reference to a file or folder of this datastore, to pass to a run.

        Raises:
            InvalidArgument: ``path`` is not a safe relative path.
        """
        from runyard.core.data_reference import DataReference

        return DataReference(self, data_reference_name=data_reference_name, path_on_datastore=path)

    def as_mount(self) -> DataReference:
        """The whole datastore, made available to a run in place (see DataReference)."""
        return self.path().as_mount()

    def as_download(
        self, path_on_compute: str | None = None, overwrite: bool = False
    ) -> DataReference:
        """The whole datastore, copied into the run's working folder."""
        return self.path().as_download(path_on_compute=path_on_compute, overwrite=overwrite)

    # -- transfers -----------------------------------------------------------------
    def upload(
        self,
        src_dir: str | os.PathLike[str],
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataReference:
        """Upload a local folder's files under ``target_path`` (the root by default).

        Files that exist in the datastore are skipped (and counted in one line) unless
        ``overwrite``. A failure leaves no half-written file; running the upload again
        uploads the rest.

        Returns:
            A data reference to ``target_path``.

        Raises:
            NotFound: ``src_dir`` is not a folder.
            InvalidArgument: ``target_path`` is unsafe (``..``, absolute, ``\\``, encoded),
                or ``src_dir`` holds a symlink that points outside it.
        """
        target = folder_arg(target_path, "target_path")
        self._upload(folder_files(os.fspath(src_dir)), target, overwrite, show_progress)
        return self.path(target or None)

    def upload_files(
        self,
        files: list[str] | list[os.PathLike[str]],
        relative_root: str | os.PathLike[str] | None = None,
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataReference:
        """Upload files; each keeps its path relative to ``relative_root`` (by default the
        folder that holds them all) under ``target_path``.

        Returns:
            A data reference to ``target_path``.

        Raises:
            NotFound: a file does not exist.
            InvalidArgument: a file is not under ``relative_root``; an unsafe target_path.
        """
        items = files_under_root(files, relative_root)
        target = folder_arg(target_path, "target_path")
        self._upload(items, target, overwrite, show_progress)
        return self.path(target or None)

    def download(
        self,
        target_path: str | os.PathLike[str],
        prefix: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> int:
        """Download the files under ``prefix`` (a folder or file; all by default) into the
        local folder ``target_path``; each keeps its full name in the datastore.

        Local files that exist are kept (and counted in one line) unless ``overwrite``.

        Returns:
            The number of files downloaded.

        Raises:
            InvalidArgument: ``prefix`` or a name in the datastore is unsafe, or a symlink
                in ``target_path`` leads outside it.
        """
        store = self._artifact_store()
        try:
            report = download_tree(
                store,
                self._storage_options(),
                folder_arg(prefix, "prefix"),
                os.path.abspath(os.fspath(target_path)),
                overwrite=overwrite,
                show_progress=show_progress,
                what=f"datastore {self.name!r}",
            )
        finally:
            store.close()
        return report.transferred

    def _upload(
        self, files: list[tuple[str, str]], target: str, overwrite: bool, show_progress: bool
    ) -> None:
        store = self._artifact_store()
        try:
            upload_items(
                store,
                self._storage_options(),
                files,
                target,
                overwrite=overwrite,
                show_progress=show_progress,
                what=f"datastore {self.name!r}",
            )
        finally:
            store.close()

    # -- plumbing ------------------------------------------------------------------
    def _storage_options(self) -> dict[str, Any]:
        return datastore_storage_options(self._record, self._workspace.config)

    def _artifact_store(self) -> ArtifactStore:
        return datastore_artifact_store(
            self._record, self._workspace.config, self._workspace.resources.token
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Datastore)
            and other._workspace.name == self._workspace.name
            and other.name == self.name
        )

    def __hash__(self) -> int:
        return hash((self._workspace.name, self.name))

    def __repr__(self) -> str:
        return (
            f"Datastore(name={self.name!r}, datastore_type={self.datastore_type!r}, "
            f"url={self.url!r})"
        )


def _register(
    workspace: Workspace,
    name: str,
    url: str,
    kind: str,
    options: dict[str, Any],
    overwrite: bool,
) -> Datastore:
    record = reg.save(workspace, name, url, kind, options, overwrite)
    return Datastore._from_record(workspace, record)

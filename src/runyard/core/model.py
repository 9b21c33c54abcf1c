"""Model: a registered, versioned model (a file or a folder) in a workspace."""

from __future__ import annotations

import builtins
import datetime as _dt
import os
import posixpath
from typing import TYPE_CHECKING, Any

from runyard.artifacts.paths import check_local_tree, check_relpath
from runyard.entities.validation import (
    check_description,
    check_entity_name,
    check_key,
    check_tag_value,
)
from runyard.errors import AlreadyExists, InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.core.inference_config import InferenceConfig
    from runyard.core.run import Run
    from runyard.core.webservice.webservice import DeploymentConfiguration, Webservice
    from runyard.core.workspace import Workspace
    from runyard.entities.model import ModelRecord

#: In a deployment, the folder holding the registered models' files.
ENV_MODEL_DIR = "RUNYARD_MODEL_DIR"


class Model:
    """A registered model version.

    ``Model(ws, name)`` is the latest version; ``Model(ws, name, version=2)`` or
    ``Model(ws, id='name:2')`` a given one.

    Raises:
        NotFound: no such model or version.
    """

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str | None] | None = None,
        version: int | None = None,
        run_id: str | None = None,
        *,
        _record: ModelRecord | None = None,
    ) -> None:
        self._workspace = workspace
        if _record is not None:
            self._record = _record
            return
        if id is not None:
            name, _, v = id.partition(":") if isinstance(id, str) else ("", "", "")
            if not name or (v and not (v.isascii() and v.isdigit() and int(v) >= 1)):
                raise InvalidArgument(
                    f"Model id {id!r} is not NAME:VERSION (or NAME for the latest version) "
                    "with a positive whole version, e.g. 'mnist:3'."
                )
            version = int(v) if v else version
        if name is None:
            raise InvalidArgument("Model(...) needs a name or an id ('name:version').")
        if tags or properties or run_id:
            found = workspace.resources.store.list_models(
                name=name, tags=tags, properties=properties, run_id=run_id
            )
            found = [m for m in found if version is None or m.version == version]
            if not found:
                raise NotFound(f"No version of model {name!r} matches the given filters.")
            self._record = found[0]
        else:
            self._record = workspace.resources.store.get_model(name, version)

    # -- registering --------------------------------------------------------------
    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        **kwargs: Any,
    ) -> Model:
        """Register a local file or folder as the next version of ``model_name``.

        Versions start at 1 and go up by one per name, with no gaps or duplicates even
        when several processes register the same name at once.

        Raises:
            NotFound: ``model_path`` does not exist.
            InvalidArgument: a bad name, tag or description; a folder holding a symlink
                that points outside it.
        """
        local = os.fspath(model_path)
        if not os.path.exists(local):
            raise NotFound(f"Cannot register {local!r}: no such file or folder.")
        if os.path.isdir(local):
            check_local_tree(local)
        # The name the files are kept under is the file's or folder's own name: "." and
        # "./" name the current folder, whose own name is only in its absolute path.
        base = os.path.basename(os.path.abspath(local)) or "model"
        files = _local_files(local, base)
        return Model._create(
            workspace,
            model_name,
            base,
            files,
            tags=tags,
            properties=properties,
            description=description,
            framework=model_framework,
            framework_version=model_framework_version,
        )

    @staticmethod
    def _register_from_run(
        run: Run,
        model_name: str,
        model_path: str,
        *,
        tags: dict[str, Any] | None,
        properties: dict[str, Any] | None,
        framework: str | None,
        framework_version: str | None,
        description: str | None,
    ) -> Model:
        prefix = check_relpath(model_path.rstrip("/"), what="model_path")
        run.flush()
        names = [n for n in run.get_file_names() if n == prefix or n.startswith(prefix + "/")]
        if not names:
            existing = run.get_file_names()
            raise NotFound(
                f"Run {run.id} has no file or folder {model_path!r} to register. Its files: "
                + (", ".join(existing[:10]) or "none")
            )
        base = prefix.rsplit("/", 1)[-1]
        files = [(f"{base}{n[len(prefix) :]}", ("artifact", run._file_key(n))) for n in names]
        return Model._create(
            run.workspace,
            model_name,
            base,
            files,
            tags=tags,
            properties=properties,
            description=description,
            framework=framework,
            framework_version=framework_version,
            run_id=run.id,
            experiment_name=run.experiment.name,
        )

    @staticmethod
    def _create(
        workspace: Workspace,
        name: str,
        base: str,
        files: list[tuple[str, tuple[str, str]]],
        *,
        tags: dict[str, Any] | None,
        properties: dict[str, Any] | None,
        description: str | None,
        framework: str | None,
        framework_version: str | None,
        run_id: str | None = None,
        experiment_name: str | None = None,
    ) -> Model:
        check_entity_name("Model", name)
        record = workspace.resources.store.create_model_version(
            name,
            artifact_path_template=f"models/{name}/{{version}}/{base}",
            description=check_description(description),
            tags=_checked("Tag", tags),
            properties=_checked("Property", properties),
            framework=framework,
            framework_version=framework_version,
            run_id=run_id,
            experiment_name=experiment_name,
            pending=True,  # invisible until its files are all there (a kill leaves none)
        )
        folder = f"models/{name}/{record.version}"
        artifacts = workspace.resources.artifacts
        try:
            for rel, (kind, source) in files:
                target = f"{folder}/{rel}"
                if kind == "local":
                    artifacts.put_file(source, target)
                else:
                    artifacts.copy(source, target)
        except BaseException:
            # Leave no version without files: the record goes, its number is not reused.
            artifacts.delete(folder)
            workspace.resources.store.delete_model(name, record.version)
            raise
        record = workspace.resources.store.complete_model_version(name, record.version)
        return Model(workspace, _record=record)

    # -- finding --------------------------------------------------------------------
    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: list[Any] | dict[str, str | None] | None = None,
        properties: list[Any] | dict[str, str | None] | None = None,
        run_id: str | None = None,
        latest: bool = False,
        **kwargs: Any,
    ) -> list[Model]:
        """Registered model versions, newest first, filtered by name, tags
        (``['key']``, ``[['key', 'value']]`` or a dict), properties, run and ``latest``."""
        records = workspace.resources.store.list_models(
            name=name,
            tags=_filter_dict(tags),
            properties=_filter_dict(properties),
            run_id=run_id,
            latest=latest,
        )
        return [Model(workspace, _record=r) for r in records]

    @staticmethod
    def get_model_path(
        model_name: str, version: int | None = None, _workspace: Workspace | None = None
    ) -> str:
        """The local path of a registered model's files.

        In a deployment (``RUNYARD_MODEL_DIR`` set) the path inside the model folder;
        otherwise the workspace's copy (downloaded to a cache first when the workspace
        keeps its files remotely). Without ``_workspace``, the workspace of the current
        run or of ``config.json`` is used.
        """
        model_dir = os.environ.get(ENV_MODEL_DIR)
        if model_dir:
            found = _find_in_model_dir(model_dir, model_name, version)
            if found:
                return found
        workspace = _workspace or _current_workspace()
        model = Model(workspace, model_name, version=version)
        local = workspace.resources.artifacts.local_path(model._record.artifact_path)
        if local is not None and os.path.exists(local):
            return local
        cache = os.path.join(
            os.path.expanduser("~"), ".cache", "runyard", "models", model.name, str(model.version)
        )
        return model.download(cache, exist_ok=True)

    @staticmethod
    def deploy(
        workspace: Workspace,
        name: str,
        models: builtins.list[Model],
        inference_config: InferenceConfig | None = None,
        deployment_config: DeploymentConfiguration | None = None,
        deployment_target: Any = None,
        overwrite: bool = False,
        show_output: bool = False,
    ) -> Webservice:
        """Deploy registered models as web service ``name`` and return it (Transitioning:
        call ``wait_for_deployment``). The service's class follows ``deployment_config``:
        ``AciWebservice`` (the default), ``LocalWebservice``, or ``AksWebservice`` with
        ``deployment_target`` a cluster compute target (replicas on its Ray cluster).

        Raises:
            InvalidArgument: ``name`` is not 3-32 lowercase letters, digits and dashes.
            WebserviceException: the name is in use (pass ``overwrite=True``), no
                inference config or model was given, or the service could not start.
        """
        from runyard.core.webservice.deploy import deploy
        from runyard.core.webservice.errors import WebserviceException

        if inference_config is None:
            raise WebserviceException(
                "Model.deploy needs inference_config=InferenceConfig(entry_script=...)."
            )
        return deploy(
            workspace,
            name,
            models,
            inference_config,
            deployment_config,
            overwrite,
            show_output,
            deployment_target=deployment_target,
        )

    # -- reading ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def version(self) -> int:
        return self._record.version

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def run_id(self) -> str | None:
        return self._record.run_id

    @property
    def experiment_name(self) -> str | None:
        return self._record.experiment_name

    @property
    def model_framework(self) -> str | None:
        return self._record.framework

    @property
    def model_framework_version(self) -> str | None:
        return self._record.framework_version

    @property
    def created_time(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self._record.created_at, tz=_dt.timezone.utc)

    @property
    def url(self) -> str:
        return f"{self._workspace.resources.artifacts.url.rstrip('/')}/{self._record.artifact_path}"

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    def serialize(self) -> dict[str, Any]:
        """The model version as a JSON-able dict."""
        r = self._record
        return {
            "id": r.id,
            "name": r.name,
            "version": r.version,
            "description": r.description,
            "tags": dict(r.tags),
            "properties": dict(r.properties),
            "framework": r.framework,
            "frameworkVersion": r.framework_version,
            "runId": r.run_id,
            "experimentName": r.experiment_name,
            "createdTime": self.created_time.isoformat(),
            "url": self.url,
        }

    def download(
        self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False, **kwargs: Any
    ) -> str:
        """Download the model's files into ``target_dir``; returns the path of the file or
        folder (its registered base name).

        Raises:
            AlreadyExists: the target exists and ``exist_ok`` is False.
        """
        artifacts = self._workspace.resources.artifacts
        source = self._record.artifact_path
        base = source.rsplit("/", 1)[-1]
        target = os.path.join(os.fspath(target_dir), base)
        if os.path.exists(target) and not exist_ok:
            raise AlreadyExists(
                f"{target} exists already; pass exist_ok=True to overwrite or choose another "
                "target_dir."
            )
        names = artifacts.list(source)
        if not names:
            raise NotFound(f"Model {self.id} has no files at {source}.")
        # Names relative to the normalised folder: a record whose path ends in "/." (as
        # registering "." once made) must not lose the first character of every name.
        root = posixpath.normpath(source)
        for n in names:
            rel = "" if n == root else posixpath.relpath(n, root)
            artifacts.get_file(n, os.path.join(target, *rel.split("/")) if rel else target)
        return target

    # -- changing -----------------------------------------------------------------------
    def add_tags(self, tags: dict[str, Any]) -> None:
        """Add or change tags."""
        self._update(add_tags=_checked("Tag", tags))

    def remove_tags(self, tags: builtins.list[str] | str) -> None:
        """Remove tags by name."""
        self._update(remove_tags=[tags] if isinstance(tags, str) else list(tags))

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties; a set property cannot change (InvalidState)."""
        self._update(add_properties=_checked("Property", properties))

    def update(
        self,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Change the description and add tags."""
        self._update(description=check_description(description), add_tags=_checked("Tag", tags))

    def _update(self, **changes: Any) -> None:
        self._record = self._workspace.resources.store.update_model(
            self.name, self.version, **changes
        )

    def delete(self) -> None:
        """Delete this version and its files. Its number is never reused."""
        self._workspace.resources.store.delete_model(self.name, self.version)
        self._workspace.resources.artifacts.delete(f"models/{self.name}/{self.version}")

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, version={self.version})"


def _checked(kind: str, values: dict[str, Any] | None) -> dict[str, str] | None:
    if values is None:
        return None
    if not isinstance(values, dict):
        raise InvalidArgument(f"{kind}s must be a dict of name -> value.")
    return {check_key(kind, k): check_tag_value(kind, k, v) for k, v in values.items()}


def _filter_dict(spec: Any) -> dict[str, str | None] | None:
    """SDK v1 filters: ``['k']``, ``[['k', 'v']]`` or a dict."""
    if spec is None or isinstance(spec, dict):
        return spec
    result: dict[str, str | None] = {}
    for item in spec:
        if isinstance(item, str):
            result[item] = None
        else:
            key, value = item
            result[key] = value
    return result


def _local_files(local: str, base: str) -> list[tuple[str, tuple[str, str]]]:
    if os.path.isfile(local):
        return [(base, ("local", local))]
    files = []
    for dirpath, _dirs, names in os.walk(local):
        for n in sorted(names):
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, local).replace(os.sep, "/")
            files.append((f"{base}/{rel}", ("local", full)))
    if not files:
        raise InvalidArgument(f"Cannot register {local!r}: the folder is empty.")
    return files


def _find_in_model_dir(model_dir: str, name: str, version: int | None) -> str | None:
    """``$RUNYARD_MODEL_DIR/NAME/VERSION/BASE`` (several models) or ``.../BASE`` (one)."""
    by_name = os.path.join(model_dir, name)
    if os.path.isdir(by_name):
        versions = sorted((int(v) for v in os.listdir(by_name) if v.isdigit()), reverse=True)
        chosen = version if version is not None else (versions[0] if versions else None)
        folder = os.path.join(by_name, str(chosen))
        if chosen is not None and os.path.isdir(folder):
            entries = os.listdir(folder)
            return os.path.join(folder, entries[0]) if len(entries) == 1 else folder
    return None


def _current_workspace() -> Workspace:
    from runyard.core.run import Run
    from runyard.core.workspace import Workspace

    run = Run.get_context()
    workspace = getattr(run, "_workspace", None)
    return workspace if workspace is not None else Workspace.from_config()


def __getattr__(name: str) -> Any:
    # ``from runyard.core.model import InferenceConfig`` (v1's path), loaded on first use so
    # that training scripts importing Model do not load the deployment code.
    if name == "InferenceConfig":
        from runyard.core.inference_config import InferenceConfig

        return InferenceConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

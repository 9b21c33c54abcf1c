"""Webservice: a deployed model answering HTTP requests (SDK v1's base class)."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import http.client
import json
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar

from runyard.core.webservice.errors import WebserviceException, WebserviceNotFound
from runyard.entities.service import FAILED, TRANSITIONING, ServiceRecord
from runyard.errors import InvalidArgument, NotFound
from runyard.serving.registry import local_backend

if TYPE_CHECKING:
    from runyard.core.image.container import ContainerImageConfig
    from runyard.core.model import Model
    from runyard.core.workspace import Workspace
    from runyard.serving.local.backend import LocalServingBackend


class DeploymentConfiguration:
    """What a ``deploy_configuration()`` returns: where and how a service runs."""

    compute_type: ClassVar[str] = ""
    port: int = 0
    auth: bool = False
    #: How many run() calls one scoring server makes at once (see
    #: :func:`runyard.core.webservice.deploy.concurrent_requests`).
    max_concurrent_requests: int = 1
    description: str | None = None
    tags: dict[str, str] | None = None
    properties: dict[str, str] | None = None

    def keys(self) -> tuple[str, str]:
        """The keys a new service gets (none without auth)."""
        return "", ""

    def notes(self, on_cluster: bool = False) -> list[str]:
        """One line per setting given that is not used as given (``on_cluster``: the
        service goes to a compute target's Ray cluster)."""
        return []

    def limits(self) -> tuple[float | None, float | None]:
        """``(cpu_cores, memory_gb)`` to enforce on the scoring server (None: none)."""
        return None, None

    def serialize(self) -> dict[str, Any]:
        """The configuration as a JSON-able dict."""
        return {"computeType": self.compute_type}


class Webservice:
    """A web service of a workspace.

    ``Webservice(workspace, name)`` gets a deployed service as its own class
    (``AciWebservice``, ``LocalWebservice``); ``Model.deploy(...)`` makes one.

    Raises:
        WebserviceException: ``WebserviceNotFound`` when no service has that name.
    """

    _compute_type: ClassVar[str] = ""
    _types: ClassVar[dict[str, type[Webservice]]] = {}
    _workspace: Workspace
    _record: ServiceRecord
    #: Where in the service's log ``wait_for_deployment(show_output=True)`` starts: 0
    #: after a deploy (its log is new); the log's end after a ``reload``.
    _log_mark: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._compute_type:
            Webservice._types[cls._compute_type] = cls

    def __new__(cls, workspace: Workspace | None = None, name: str | None = None) -> Webservice:
        if workspace is None or name is None:
            raise WebserviceException("Webservice(workspace, name) needs both.")
        record = _get(workspace, name)
        kind = cls._types.get(record.compute_type, cls)
        if cls._compute_type and kind is not cls:
            raise WebserviceNotFound(
                f"WebserviceNotFound: {name!r} is a {record.compute_type} service, not "
                f"{cls._compute_type}. Use Webservice(ws, {name!r})."
            )
        service = object.__new__(kind)
        service._workspace, service._record = workspace, record
        return service

    def __init__(self, workspace: Workspace | None = None, name: str | None = None) -> None:
        """Set up by ``__new__``."""

    @classmethod
    def _from_record(cls, workspace: Workspace, record: ServiceRecord) -> Webservice:
        service = object.__new__(cls._types.get(record.compute_type, cls))
        service._workspace, service._record = workspace, record
        return service

    @staticmethod
    def deploy_from_model(
        workspace: Workspace,
        name: str,
        models: builtins.list[Model],
        image_config: ContainerImageConfig,
        deployment_config: DeploymentConfiguration | None = None,
        deployment_target: Any = None,
        overwrite: bool = False,
    ) -> Webservice:
        """Deploy ``models`` with a ``ContainerImage.image_configuration`` (the 2019 form);
        ``deployment_target`` as ``Model.deploy``'s (a cluster compute target).

        Deprecated as in SDK v1: use ``Model.deploy`` with an ``InferenceConfig``.
        """
        import warnings

        from runyard.core.webservice.deploy import deploy

        warnings.warn(
            "deploy_from_model has been deprecated and will be removed in a future release. "
            "Please migrate to using Environments: Model.deploy(workspace, name, models, "
            "InferenceConfig(entry_script=..., environment=...), deployment_config).",
            DeprecationWarning,
            stacklevel=2,
        )
        return deploy(
            workspace,
            name,
            models,
            image_config.inference_config(),
            deployment_config,
            overwrite,
            deployment_target=deployment_target,
        )

    @staticmethod
    def list(
        workspace: Workspace,
        compute_type: str | None = None,
        image_name: str | None = None,
        image_id: str | None = None,
        model_name: str | None = None,
        model_id: str | None = None,
        tags: Any = None,
        properties: Any = None,
    ) -> builtins.list[Webservice]:
        """The workspace's services, filtered by compute type (``ACI``, ``Local``),
        model name or id (``name:version``), and tags or properties (``['key']``,
        ``[['key', 'value']]``)."""
        records = workspace.resources.store.list_services(
            model_name=model_name, compute_type=compute_type
        )
        records = [r for r in records if model_id is None or model_id in r.models]
        records = [r for r in records if _has(r.tags, tags) and _has(r.properties, properties)]
        return [Webservice._from_record(workspace, r) for r in records]

    # -- reading ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def compute_type(self) -> str:
        return self._record.compute_type

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def scoring_uri(self) -> str | None:
        return self._record.scoring_uri

    @property
    def swagger_uri(self) -> str | None:
        uri = self._record.scoring_uri
        return None if uri is None else uri.rsplit("/", 1)[0] + "/swagger.json"

    @property
    def auth_enabled(self) -> bool:
        return self._record.auth_enabled

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def models(self) -> builtins.list[str]:
        """The ids (``name:version``) of the deployed models."""
        return list(self._record.models)

    @property
    def created_time(self) -> float:
        return self._record.created_at

    @property
    def state(self) -> str:
        """The service's state now: ``Transitioning``, ``Healthy``, ``Unhealthy`` or
        ``Failed`` (read from the machine that serves it, and stored)."""
        return self.update_deployment_state()

    @property
    def error(self) -> dict[str, Any] | None:
        """Why deployment failed (``message``, ``log_tail``), or None."""
        return self._record.error

    @property
    def compute_target(self) -> str | None:
        """The name of the cluster compute target the service runs on (None: this
        machine)."""
        target = self._record.config.get("target")
        return None if target is None else str(target)

    def _backend(self) -> LocalServingBackend:
        target = self._record.config.get("target")
        if target:
            from runyard.core.webservice.deploy import ray_backend

            return ray_backend(self._workspace, str(target))  # type: ignore[return-value]
        return local_backend(self._workspace.resources)

    def update_deployment_state(self) -> str:
        """Refresh the state from the serving machine and store it; returns it."""
        backend = self._backend()
        status = backend.status(self.name)
        error = self._record.error
        if status.state == FAILED:
            error = backend.failure(self.name) or {"message": status.detail}
        elif status.state != self._record.state:
            error = None
        if (status.state, error) != (self._record.state, self._record.error):
            self._record = self._workspace.resources.store.update_service(
                dataclasses.replace(self._record, state=status.state, error=error)
            )
        return self._record.state

    def _state_name(self, state: str) -> str:
        return state

    def wait_for_deployment(
        self, show_output: bool = False, timeout_sec: float | None = None
    ) -> None:
        """Wait until the service leaves Transitioning.

        With ``show_output``, print as SDK v1 did: ``Running``, the deployment's log
        lines as they come (environment build, ``init()``'s prints, the server ready),
        dots while nothing happens, then ``Succeeded`` or ``Failed``.

        Raises:
            WebserviceException: it ended Failed (the message has ``init()``'s traceback;
                ``get_logs()`` has all of it), or ``timeout_sec`` passed.
        """
        from runyard.core.webservice.progress import DeploymentProgress

        deadline = None if timeout_sec is None else time.monotonic() + timeout_sec
        progress = DeploymentProgress() if show_output else None
        backend = self._backend()
        offset = self._log_mark
        if progress is not None:
            progress.start()
        delay = 0.02
        while True:
            state = self.update_deployment_state()
            if progress is not None:
                text, offset = backend.log_since(self.name, offset)
                progress.log(text)
            if state != TRANSITIONING:
                break
            if deadline is not None and time.monotonic() > deadline:
                if progress is not None:
                    progress.end("TimedOut", None)
                raise WebserviceException(
                    f"Web service {self.name!r} was still Transitioning after {timeout_sec} s. "
                    "Its environment may still be building: see get_logs(), and wait again."
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        self._log_mark = offset if progress is not None else self._log_mark
        if self._record.state == FAILED:
            if progress is not None:
                progress.end("Failed", None)
            error = self._record.error or {}
            raise WebserviceException(
                "Service deployment polling reached non-successful terminal state, current "
                f"service state: {self._state_name(FAILED)}\n"
                "More information can be found using '.get_logs()'\n"
                f"Error: {error.get('message', 'see get_logs()')}\n{error.get('log_tail', '')}"
            )
        if progress is not None:
            progress.end("Succeeded", self._finished_line())

    def _finished_line(self) -> str:
        return f'{self.compute_type} service creation operation finished, operation "Succeeded"'

    # -- scoring ------------------------------------------------------------------------
    def run(self, input_data: Any) -> Any:
        """POST ``input_data`` (str or bytes as given; other values as JSON) to the
        scoring URI and return the decoded JSON answer.

        Raises:
            WebserviceException: the service answered with an error or cannot be reached.
        """
        if self._record.scoring_uri is None:
            self.update_deployment_state()
        uri = self._record.scoring_uri
        if uri is None:
            raise WebserviceException(f"Web service {self.name!r} has no scoring URI yet.")
        body = input_data if isinstance(input_data, (str, bytes)) else json.dumps(input_data)
        payload = body.encode("utf-8") if isinstance(body, str) else body
        status, content = _post(uri, payload, self._run_key())
        if status == 401 and self._record.auth_enabled:  # a key just regenerated: once more
            self._record = self._workspace.resources.store.get_service(self.name)
            status, content = _post(uri, payload, self._run_key())
        if status != 200:
            raise WebserviceException(
                f"Received bad response from service. More information can be found by "
                f"calling .get_logs() on the webservice object.\nResponse Code: {status}\n"
                f"Content: {content[:2000]!r}"
            )
        return json.loads(content)

    def _run_key(self) -> str | None:
        return self._record.primary_key if self._record.auth_enabled else None

    # -- keys and logs ------------------------------------------------------------------
    def get_keys(self) -> tuple[str, str]:
        """``(primary_key, secondary_key)``.

        Raises:
            WebserviceException: the service does not use keys (auth is off).
        """
        if not self._record.auth_enabled:
            raise WebserviceException(
                f"Web service {self.name!r} has auth disabled, so it has no keys. Turn it on "
                "with service.update(auth_enabled=True)."
            )
        return self._record.primary_key, self._record.secondary_key

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """Regenerate the ``'Primary'`` or ``'Secondary'`` key (or set it to ``set_key``);
        the running service takes it at once.

        Raises:
            WebserviceException: ``key`` is neither, or auth is off.
            InvalidArgument: ``set_key`` is not a valid key.
        """
        from runyard.core.webservice.deploy import new_keys

        which = key.capitalize() if isinstance(key, str) else key
        if which not in ("Primary", "Secondary"):
            raise WebserviceException(f"Key must be 'Primary' or 'Secondary', got {key!r}.")
        self.get_keys()
        fresh = new_keys(True, set_key, None)[0]
        record = (
            dataclasses.replace(self._record, primary_key=fresh)
            if which == "Primary"
            else dataclasses.replace(self._record, secondary_key=fresh)
        )
        self._set_auth(record)

    def _set_auth(self, record: ServiceRecord) -> None:
        self._backend().set_keys(
            self.name,
            auth_enabled=record.auth_enabled,
            keys=(record.primary_key, record.secondary_key),
        )
        self._record = self._workspace.resources.store.update_service(record)

    def get_logs(self, num_lines: int = 5000, init: bool = False) -> str:
        """The last ``num_lines`` lines the service printed: the supervisor's, the scoring
        server's and ``score.py``'s (``init`` is accepted: there is one log here)."""
        return self._backend().logs(self.name, num_lines)

    # -- changing -----------------------------------------------------------------------
    def _redeploy(self, models: builtins.list[Model] | None, inference_config: Any) -> None:
        from runyard.core.webservice.deploy import deployed_models, start
        from runyard.entities.service import ServiceDefinition

        definition = ServiceDefinition.from_dict(self._record.config["definition"])
        port = int(urllib.parse.urlsplit(self._record.scoring_uri or "").port or definition.port)
        changes: dict[str, Any] = {"port": port}
        record = self._record
        if models is not None:
            deployed = deployed_models(models)
            changes["models"] = deployed
            record = dataclasses.replace(record, models=tuple(m.id for m in deployed))
        if inference_config is not None:
            source, entry, files = inference_config.shipped()
            changes.update(
                source_directory=source,
                entry_script=entry,
                files=files,
                environment=inference_config.environment_spec().to_dict(),
            )
            record = dataclasses.replace(
                record,
                config={**record.config, "inference": inference_config.serialize()},
            )
        definition = dataclasses.replace(definition, **changes)
        self._log_mark = 0  # the redeployed service's log starts afresh
        self._record = start(
            self._workspace, dataclasses.replace(record, state=TRANSITIONING), definition
        )

    def delete(self) -> None:
        """Stop the service, free its port and forget it."""
        self._backend().delete(self.name)
        with contextlib.suppress(NotFound):
            self._workspace.resources.store.delete_service(self.name)

    def serialize(self) -> dict[str, Any]:
        """The service as a JSON-able dict (keys left out)."""
        r = self._record
        return {
            "name": r.name,
            "computeType": r.compute_type,
            "computeTarget": self.compute_target,
            "state": self._state_name(r.state),
            "scoringUri": r.scoring_uri,
            "swaggerUri": self.swagger_uri,
            "authEnabled": r.auth_enabled,
            "models": list(r.models),
            "description": r.description,
            "tags": dict(r.tags),
            "properties": dict(r.properties),
            "error": r.error,
            "createdTime": r.created_at,
            "updatedTime": r.updated_at,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self._workspace.name!r}, name={self.name!r})"


def _get(workspace: Workspace, name: str) -> ServiceRecord:
    try:
        return workspace.resources.store.get_service(name)
    except NotFound as exc:
        raise WebserviceNotFound(exc.message) from exc


def _has(values: dict[str, str], spec: Any) -> bool:
    if spec is None:
        return True
    items = spec.items() if isinstance(spec, dict) else spec
    for item in items:
        key, value = (item, None) if isinstance(item, str) else tuple(item)
        if key not in values or (value is not None and values[key] != value):
            return False
    return True


def _post(uri: str, payload: bytes, key: str | None) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "http" or not parts.hostname:
        raise InvalidArgument(f"Cannot call scoring URI {uri!r}: only http:// is served here.")
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=300)
    try:
        conn.request("POST", parts.path or "/score", body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError as exc:
        raise WebserviceException(
            f"Cannot reach the web service at {uri}: {exc}. Check its state and get_logs()."
        ) from exc
    finally:
        conn.close()

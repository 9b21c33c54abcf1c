"""Deploying models as a web service: what ``Model.deploy`` and
``Webservice.deploy_from_model`` share."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from runyard.core.webservice.errors import WebserviceException
from runyard.entities.service import (
    FAILED,
    TRANSITIONING,
    DeployedModel,
    ServiceDefinition,
    ServiceRecord,
    check_service_name,
)
from runyard.errors import AlreadyExists, InvalidArgument, RunyardError
from runyard.serving.keys import generate_key
from runyard.serving.registry import local_backend

if TYPE_CHECKING:
    from runyard.core.inference_config import InferenceConfig
    from runyard.core.model import Model
    from runyard.core.webservice.webservice import DeploymentConfiguration, Webservice
    from runyard.core.workspace import Workspace


def deployed_models(models: Iterable[Model]) -> tuple[DeployedModel, ...]:
    """The model versions as the service definition names them."""
    found = tuple(DeployedModel(m.name, m.version, m._record.artifact_path) for m in models or ())
    if not found:
        raise WebserviceException("Give at least one registered Model to deploy (models=[model]).")
    return found


def definition_for(
    name: str,
    models: tuple[DeployedModel, ...],
    inference_config: InferenceConfig,
    config: DeploymentConfiguration,
) -> ServiceDefinition:
    """The definition a node serves ``name`` from."""
    source, entry, files = inference_config.shipped()
    cpu_cores, memory_gb = config.limits()
    return ServiceDefinition(
        name=name,
        entry_script=entry,
        source_directory=source,
        environment=inference_config.environment_spec().to_dict(),
        models=models,
        port=config.port,
        files=files,
        cpu_cores=cpu_cores,
        memory_gb=memory_gb,
        max_concurrent_requests=config.max_concurrent_requests,
    )


def deploy(
    workspace: Workspace,
    name: str,
    models: Iterable[Model],
    inference_config: InferenceConfig,
    deployment_config: DeploymentConfiguration | None,
    overwrite: bool,
    show_output: bool = False,
    deployment_target: Any = None,
) -> Webservice:
    """Deploy ``models`` as web service ``name``; returns it, Transitioning.

    An ``AksWebservice`` configuration needs ``deployment_target``: a cluster compute
    target (or its name), whose Ray cluster runs the replicas.

    Raises:
        InvalidArgument: a bad service name.
        WebserviceException: the name is in use (without ``overwrite``), no model, or the
            service could not be started (its port in use...).
    """
    from runyard.core.webservice.aci import AciWebservice
    from runyard.core.webservice.webservice import Webservice

    check_service_name(name)
    config = deployment_config or AciWebservice.deploy_configuration()
    target = _target_name(config, deployment_target)
    for line in [*inference_config.notes(), *config.notes()]:
        print(f"Note: {line}")
    deployed = deployed_models(models)
    definition = definition_for(name, deployed, inference_config, config)
    keys = config.keys()
    record = ServiceRecord(
        name=name,
        compute_type=config.compute_type,
        state=TRANSITIONING,
        models=tuple(m.id for m in deployed),
        auth_enabled=config.auth,
        primary_key=keys[0],
        secondary_key=keys[1],
        config={
            "deployment": config.serialize(),
            "inference": inference_config.serialize(),
            "definition": definition.to_dict(),
            **({"target": target} if target else {}),
        },
        description=config.description,
        tags=dict(config.tags or {}),
        properties=dict(config.properties or {}),
    )
    store = workspace.resources.store
    try:
        record = store.create_service(record, overwrite=overwrite)
    except AlreadyExists as exc:
        raise WebserviceException(
            f"A web service named {name!r} exists already. Pass overwrite=True to replace "
            f"it, choose another name, or delete it first (Webservice(ws, {name!r}).delete())."
        ) from exc
    record = start(workspace, record, definition)
    service = Webservice._from_record(workspace, record)
    if show_output:
        print(f"Deploying {name} ({record.compute_type}) at {record.scoring_uri}")
    return service


def start(
    workspace: Workspace, record: ServiceRecord, definition: ServiceDefinition
) -> ServiceRecord:
    """Start (or restart) serving ``record`` from ``definition``; the record as stored."""
    store = workspace.resources.store
    keys = (record.primary_key, record.secondary_key)
    try:
        if record.compute_type == "AKS":
            from runyard.core.webservice.aks import ray_backend
            from runyard.serving.ray.scaling import ReplicaSettings

            replicas = ReplicaSettings.from_dict(record.config["deployment"]["replicas"])
            status = ray_backend(workspace, str(record.config["target"])).deploy_replicas(
                definition, replicas, auth_enabled=record.auth_enabled, keys=keys
            )
        else:
            status = local_backend(workspace.resources).deploy(
                definition, auth_enabled=record.auth_enabled, keys=keys
            )
    except RunyardError as exc:
        store.update_service(
            dataclasses.replace(record, state=FAILED, error={"message": exc.message})
        )
        raise WebserviceException(f"Web service {record.name!r} could not start: {exc}") from exc
    config = {**record.config, "definition": definition.to_dict()}
    return store.update_service(
        dataclasses.replace(
            record, state=status.state, scoring_uri=status.scoring_uri, error=None, config=config
        )
    )


#: The most run() calls a scoring server makes at once: threads, not processes, so more
#: only adds waiting threads on a machine of a few cores.
MAX_CONCURRENT_REQUESTS = 64


def concurrent_requests(value: Any) -> int:
    """Check ``replica_max_concurrent_requests``: None is 1 (one ``run()`` at a time).

    Raises:
        InvalidArgument: not a whole number from 1 to :data:`MAX_CONCURRENT_REQUESTS`.
    """
    if value is None:
        return 1
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_CONCURRENT_REQUESTS
    ):
        raise InvalidArgument(
            "replica_max_concurrent_requests must be a whole number from 1 to "
            f"{MAX_CONCURRENT_REQUESTS}, got {value!r}."
        )
    return value


def new_keys(auth: bool, primary: str | None, secondary: str | None) -> tuple[str, str]:
    """The service's keys: those given, others generated; none without auth."""
    from runyard.serving.keys import check_key

    if not auth:
        return "", ""
    return (
        check_key("primary", primary) if primary is not None else generate_key(),
        check_key("secondary", secondary) if secondary is not None else generate_key(),
    )


def cloud_notes(values: dict[str, Any]) -> list[str]:
    """One line per cloud-only setting given: accepted, not used on this machine."""
    return [
        f"{k}={v!r} is a cloud setting; on this machine the service runs as one process on "
        "127.0.0.1, so it is recorded but not used."
        for k, v in values.items()
        if v is not None and v is not False
    ]


def _target_name(config: DeploymentConfiguration, deployment_target: Any) -> str | None:
    """The cluster target an AKS configuration deploys to (None for the others).

    Raises:
        WebserviceException: an AKS configuration without a target, or a target with
            another configuration.
    """
    if deployment_target is None:
        if config.compute_type == "AKS":
            raise WebserviceException(
                "An AksWebservice deployment needs deployment_target=<a cluster compute "
                "target> (AmlCompute on Ray), whose Ray cluster runs the replicas."
            )
        return None
    if config.compute_type != "AKS":
        raise WebserviceException(
            "deployment_target is for AksWebservice deployments (replicas on a Ray cluster); "
            "leave it out to deploy on this machine."
        )
    name = deployment_target if isinstance(deployment_target, str) else deployment_target.name
    return str(name)

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
    from runyard.serving.ray.backend import RayServeBackend


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
    target (or its name), whose Ray cluster runs the replicas. An ``AciWebservice``
    configuration takes one too, optionally: its one replica then runs on that cluster.

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
    notes = [*inference_config.notes(), *config.notes(on_cluster=target is not None)]
    if target and not inference_config.environment_spec().user_managed:
        notes.append(
            "On a Ray cluster the replicas run in the Python of the cluster's nodes: the "
            "environment is not built there, so its packages must be installed on the nodes."
        )
    for line in notes:
        print(f"Note: {line}")
    deployed = deployed_models(models)
    if target:
        ray_backend(workspace, target)  # no such target, or not a cluster: before recording
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
        if record.config.get("target"):
            replicas = replica_settings(record.config["deployment"])
            backend = ray_backend(workspace, str(record.config["target"]), deploying=True)
            status = backend.deploy_replicas(
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


def replica_settings(deployment: dict[str, Any]) -> Any:
    """The replicas a service on a Ray cluster runs, from its stored deployment config: an
    AKS configuration's own; one replica of an ACI configuration's size."""
    from runyard.serving.ray.scaling import ReplicaSettings

    if "replicas" in deployment:
        return ReplicaSettings.from_dict(deployment["replicas"])
    return ReplicaSettings(
        num_replicas=1,
        cpu_cores=float(deployment.get("cpuCores") or 0.1),
        memory_gb=float(deployment.get("memoryGb") or 0.5),
    )


def ray_backend(workspace: Workspace, target: str, deploying: bool = False) -> RayServeBackend:
    """The Ray Serve backend of the cluster compute target named ``target``.

    ``deploying``: also find out whether the cluster's nodes share this machine's
    folders (a question to the cluster), so that a new service's files are read in
    place or shipped.

    Raises:
        WebserviceException: no such target, or it has no Ray cluster.
    """
    from runyard.compute.registry import backend_for
    from runyard.core.compute_target import get_target_record
    from runyard.serving.registry import ray_backend as make

    try:
        record = get_target_record(workspace, target)
    except RunyardError as exc:
        raise WebserviceException(f"Compute target {target!r}: {exc.message}") from exc
    compute = backend_for(workspace.resources, record)
    connection = compute.dashboard()
    if connection is None:
        raise WebserviceException(
            f"Compute target {target!r} is not a cluster: services on a compute target run "
            "on its Ray cluster (AmlCompute on Ray). Leave deployment_target out to serve "
            "an AciWebservice on this machine."
        )
    shared = True
    if deploying:
        shared = (
            not workspace.resources.settings.serve_ship_files and compute.nodes_share_this_machine()
        )
    return make(workspace.resources, *connection, shared=shared)


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
    """The cluster target a configuration deploys to (None: this machine).

    Raises:
        WebserviceException: an AKS configuration without a target, or a target with a
            Local configuration.
    """
    if deployment_target is None:
        if config.compute_type == "AKS":
            raise WebserviceException(
                "An AksWebservice deployment needs deployment_target=<a cluster compute "
                "target> (AmlCompute on Ray), whose Ray cluster runs the replicas."
            )
        return None
    if config.compute_type not in ("AKS", "ACI"):
        raise WebserviceException(
            "deployment_target is for AksWebservice and AciWebservice deployments (replicas "
            "on a Ray cluster); a LocalWebservice runs on this machine: leave it out."
        )
    name = deployment_target if isinstance(deployment_target, str) else deployment_target.name
    return str(name)

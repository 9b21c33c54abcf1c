"""AciWebservice: SDK v1's Azure Container Instances service, served on this machine."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

from runyard.core.webservice.deploy import cloud_notes, concurrent_requests, new_keys
from runyard.core.webservice.errors import WebserviceException
from runyard.core.webservice.webservice import DeploymentConfiguration, Webservice
from runyard.errors import InvalidArgument

_CLOUD_ONLY = (
    "location",
    "ssl_enabled",
    "enable_app_insights",
    "ssl_cert_pem_file",
    "ssl_key_pem_file",
    "ssl_cname",
    "dns_name_label",
    "collect_model_data",
    "cmk_vault_base_url",
    "cmk_key_name",
    "cmk_key_version",
    "vnet_name",
    "subnet_name",
)


class AciServiceDeploymentConfiguration(DeploymentConfiguration):
    """What ``AciWebservice.deploy_configuration`` returns."""

    compute_type: ClassVar[str] = "ACI"

    def __init__(
        self,
        cpu_cores: float | None,
        memory_gb: float | None,
        auth_enabled: bool,
        **kwargs: Any,
    ):
        # Only sizes given are enforced: v1's defaults (0.1 cores, 0.5 GB) would throttle
        # and stop services that ran here before limits were enforced.
        self._given = (cpu_cores is not None, memory_gb is not None)
        cpu_cores = 0.1 if cpu_cores is None else cpu_cores  # SDK v1's defaults
        memory_gb = 0.5 if memory_gb is None else memory_gb
        for label, value in (("cpu_cores", cpu_cores), ("memory_gb", memory_gb)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise InvalidArgument(f"{label} must be a positive number, got {value!r}.")
        self.cpu_cores = float(cpu_cores)
        self.memory_gb = float(memory_gb)
        self.auth = bool(auth_enabled)
        self.tags = kwargs.pop("tags", None)
        self.properties = kwargs.pop("properties", None)
        self.description = kwargs.pop("description", None)
        self.primary_key = kwargs.pop("primary_key", None)
        self.secondary_key = kwargs.pop("secondary_key", None)
        self.max_concurrent_requests = concurrent_requests(
            kwargs.pop("replica_max_concurrent_requests", None)
        )
        self.cloud = {k: kwargs.pop(k, None) for k in _CLOUD_ONLY}
        if kwargs:
            raise InvalidArgument(f"Unknown deploy_configuration arguments: {sorted(kwargs)}.")
        if not self.auth and (self.primary_key or self.secondary_key):
            raise WebserviceException("primary_key/secondary_key need auth_enabled=True.")
        self._keys = new_keys(self.auth, self.primary_key, self.secondary_key)

    def keys(self) -> tuple[str, str]:
        return self._keys

    def notes(self, on_cluster: bool = False) -> list[str]:
        cpu, memory = self.limits()
        sizes = []
        if on_cluster:
            sizes = [
                f"On a Ray cluster the service is one Ray Serve replica reserving "
                f"{self.cpu_cores:g} CPU and {self.memory_gb:g} GB: Ray schedules by them; "
                "they are not hard limits."
            ]
        elif cpu is not None:
            sizes.append(
                f"cpu_cores={cpu:g}: the scoring server runs on {math.ceil(cpu)} CPU(s) of "
                "this machine (whole CPUs, by affinity)."
            )
        if memory is not None and not on_cluster:
            sizes.append(
                f"memory_gb={memory:g}: the scoring server is stopped and restarted when it "
                "uses more resident memory, as a container over its limit is."
            )
        return [*sizes, *cloud_notes(self.cloud)]

    def limits(self) -> tuple[float | None, float | None]:
        return (
            self.cpu_cores if self._given[0] else None,
            self.memory_gb if self._given[1] else None,
        )

    def serialize(self) -> dict[str, Any]:
        return {
            "computeType": self.compute_type,
            "cpuCores": self.cpu_cores,
            "memoryGb": self.memory_gb,
            "authEnabled": self.auth,
            "replicaMaxConcurrentRequests": self.max_concurrent_requests,
            **{k: v for k, v in self.cloud.items() if v is not None},
        }


class AciWebservice(Webservice):
    """A service deployed with ``AciWebservice.deploy_configuration`` (one process on
    this machine; states ``Transitioning``, ``Healthy``, ``Unhealthy``, ``Failed``)."""

    _compute_type: ClassVar[str] = "ACI"

    @staticmethod
    def deploy_configuration(
        cpu_cores: float | None = None,
        memory_gb: float | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
        location: str | None = None,
        auth_enabled: bool | None = None,
        ssl_enabled: bool | None = None,
        enable_app_insights: bool | None = None,
        ssl_cert_pem_file: str | None = None,
        ssl_key_pem_file: str | None = None,
        ssl_cname: str | None = None,
        dns_name_label: str | None = None,
        primary_key: str | None = None,
        secondary_key: str | None = None,
        collect_model_data: bool | None = None,
        cmk_vault_base_url: str | None = None,
        cmk_key_name: str | None = None,
        cmk_key_version: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        replica_max_concurrent_requests: int | None = None,
    ) -> AciServiceDeploymentConfiguration:
        """A deployment configuration (v1 defaults: 0.1 cores, 0.5 GB, auth off).

        Keys are generated unless given. Cloud-only settings (SSL, DNS, VNet, App
        Insights...) are accepted, recorded and noted as not used here.
        ``replica_max_concurrent_requests`` (AksWebservice's name for it; default 1, as
        v1's one call at a time) is how many ``run()`` calls the scoring server makes at
        once, on threads: more only for a score.py whose ``run()`` is thread-safe.

        Raises:
            InvalidArgument: a non-positive size, or a key that is not 16-256 printable
                characters.
            WebserviceException: keys given without ``auth_enabled=True``.
        """
        return AciServiceDeploymentConfiguration(
            cpu_cores,
            memory_gb,
            bool(auth_enabled),
            tags=tags,
            properties=properties,
            description=description,
            primary_key=primary_key,
            secondary_key=secondary_key,
            location=location,
            ssl_enabled=ssl_enabled,
            enable_app_insights=enable_app_insights,
            ssl_cert_pem_file=ssl_cert_pem_file,
            ssl_key_pem_file=ssl_key_pem_file,
            ssl_cname=ssl_cname,
            dns_name_label=dns_name_label,
            collect_model_data=collect_model_data,
            cmk_vault_base_url=cmk_vault_base_url,
            cmk_key_name=cmk_key_name,
            cmk_key_version=cmk_key_version,
            vnet_name=vnet_name,
            subnet_name=subnet_name,
            replica_max_concurrent_requests=replica_max_concurrent_requests,
        )

    def update(
        self,
        image: Any = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
        auth_enabled: bool | None = None,
        ssl_enabled: bool | None = None,
        ssl_cert_pem_file: str | None = None,
        ssl_key_pem_file: str | None = None,
        ssl_cname: str | None = None,
        enable_app_insights: bool | None = None,
        models: list[Any] | None = None,
        inference_config: Any = None,
    ) -> None:
        """Change the service; None leaves a setting as it is. ``tags`` replaces the
        tags, ``properties`` adds; new ``models`` or ``inference_config`` restart it (same
        URI); ``auth_enabled`` takes effect at once.

        Raises:
            WebserviceException: no parameters were given, or ``image`` was (no images).
        """
        given = [image, tags, properties, description, auth_enabled, ssl_enabled]
        given += [ssl_cert_pem_file, ssl_key_pem_file, ssl_cname, enable_app_insights]
        if all(v is None for v in [*given, models, inference_config]):
            raise WebserviceException("No parameters provided to update.")
        if image is not None:
            raise WebserviceException(
                "update(image=...) needs container images, which Runyard does not build; "
                "pass inference_config=InferenceConfig(...) instead."
            )
        for line in cloud_notes(
            {
                "ssl_enabled": ssl_enabled,
                "ssl_cert_pem_file": ssl_cert_pem_file,
                "ssl_key_pem_file": ssl_key_pem_file,
                "ssl_cname": ssl_cname,
                "enable_app_insights": enable_app_insights,
            }
        ):
            print(f"Note: {line}")
        record = self._record
        if tags is not None:
            record = dataclasses.replace(record, tags=dict(tags))
        if properties is not None:
            record = dataclasses.replace(record, properties={**record.properties, **properties})
        if description is not None:
            record = dataclasses.replace(record, description=description)
        if auth_enabled is not None and bool(auth_enabled) != record.auth_enabled:
            keys = new_keys(bool(auth_enabled), None, None)
            if auth_enabled and record.primary_key:
                keys = (record.primary_key, record.secondary_key)
            record = dataclasses.replace(
                record, auth_enabled=bool(auth_enabled), primary_key=keys[0], secondary_key=keys[1]
            )
            self._set_auth(record)
        else:
            self._record = self._workspace.resources.store.update_service(record)
        if models is not None or inference_config is not None:
            self._redeploy(models, inference_config)

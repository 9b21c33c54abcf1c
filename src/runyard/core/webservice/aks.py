"""AksWebservice: SDK v1's Kubernetes service, as replicas on Ray Serve.

``AksWebservice.deploy_configuration(...)`` takes v1's replica and autoscaling settings;
``Model.deploy(..., deployment_target=target)`` with a cluster compute target (a Ray
head Runyard started, or an attached Ray cluster) runs the service as a Ray Serve
application there: the cluster places the replicas on its nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from runyard.core.webservice.deploy import cloud_notes, new_keys, ray_backend
from runyard.core.webservice.errors import WebserviceException
from runyard.core.webservice.webservice import DeploymentConfiguration, Webservice
from runyard.errors import InvalidArgument
from runyard.serving.ray.scaling import ReplicaSettings

if TYPE_CHECKING:
    from runyard.serving.ray.backend import RayServeBackend

_CLOUD_ONLY = (
    "collect_model_data",
    "enable_app_insights",
    "scoring_timeout_ms",
    "period_seconds",
    "initial_delay_seconds",
    "timeout_seconds",
    "success_threshold",
    "failure_threshold",
    "namespace",
    "token_auth_enabled",
    "compute_target_name",
    "gpu_cores",
    "cpu_cores_limit",
    "memory_gb_limit",
    "blobfuse_enabled",
    "primary_key_not_set",
)


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def _whole(label: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgument(f"{label} must be a whole number of at least {low}, got {value!r}.")
    return value


class AksServiceDeploymentConfiguration(DeploymentConfiguration):
    """What ``AksWebservice.deploy_configuration`` returns."""

    compute_type: ClassVar[str] = "AKS"

    def __init__(self, **kwargs: Any) -> None:
        pick = kwargs.pop
        num_replicas = pick("num_replicas", None)
        autoscale = pick("autoscale_enabled", None)
        if autoscale is None:
            autoscale = num_replicas is None  # v1: autoscaling unless replicas are fixed
        if autoscale and num_replicas is not None:
            raise InvalidArgument("num_replicas cannot be given with autoscale_enabled=True.")
        low = _whole("autoscale_min_replicas", _given(pick("autoscale_min_replicas", None), 1), 1)
        high = _whole("autoscale_max_replicas", _given(pick("autoscale_max_replicas", None), 10), 1)
        if low > high:
            raise InvalidArgument(
                f"autoscale_min_replicas ({low}) is more than autoscale_max_replicas ({high})."
            )
        utilization = _whole(
            "autoscale_target_utilization",
            _given(pick("autoscale_target_utilization", None), 70),
            1,
        )
        if utilization > 100:
            raise InvalidArgument("autoscale_target_utilization is a percentage: 1 to 100.")
        refresh = pick("autoscale_refresh_seconds", None) or 1
        concurrent = _whole(
            "replica_max_concurrent_requests",
            _given(pick("replica_max_concurrent_requests", None), 1),
            1,
        )
        cpu_cores = pick("cpu_cores", None)
        memory_gb = pick("memory_gb", None)
        self._sized = cpu_cores is not None or memory_gb is not None
        for label, value in (("cpu_cores", cpu_cores), ("memory_gb", memory_gb)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
            ):
                raise InvalidArgument(f"{label} must be a positive number, got {value!r}.")
        self.replicas = ReplicaSettings(
            num_replicas=None if autoscale else _whole("num_replicas", _given(num_replicas, 1), 1),
            autoscale_min_replicas=low,
            autoscale_max_replicas=high,
            autoscale_target_utilization=utilization,
            autoscale_refresh_seconds=float(refresh),
            max_concurrent_requests_per_container=concurrent,
            cpu_cores=float(cpu_cores or 0.1),  # v1's defaults
            memory_gb=float(memory_gb or 0.5),
        )
        auth = pick("auth_enabled", None)
        self.auth = True if auth is None else bool(auth)  # v1: AKS services have keys
        self.tags = pick("tags", None)
        self.properties = pick("properties", None)
        self.description = pick("description", None)
        self.primary_key = pick("primary_key", None)
        self.secondary_key = pick("secondary_key", None)
        self.cloud = {k: pick(k, None) for k in _CLOUD_ONLY}
        if kwargs:
            raise InvalidArgument(f"Unknown deploy_configuration arguments: {sorted(kwargs)}.")
        if not self.auth and (self.primary_key or self.secondary_key):
            raise WebserviceException("primary_key/secondary_key need auth_enabled=True.")
        self._keys = new_keys(self.auth, self.primary_key, self.secondary_key)

    def keys(self) -> tuple[str, str]:
        return self._keys

    def notes(self, on_cluster: bool = True) -> list[str]:
        sized = [
            "cpu_cores and memory_gb reserve Ray resources per replica: Ray schedules by "
            "them; they are not hard limits."
        ]
        return [*(sized if self._sized else []), *cloud_notes(self.cloud)]

    def serialize(self) -> dict[str, Any]:
        return {
            "computeType": self.compute_type,
            "authEnabled": self.auth,
            "replicas": self.replicas.to_dict(),
            **{k: v for k, v in self.cloud.items() if v is not None},
        }


class AksWebservice(Webservice):
    """A service of replicas on a Ray cluster (SDK v1's AKS service), deployed with
    ``Model.deploy(..., deployment_config=AksWebservice.deploy_configuration(...),
    deployment_target=<cluster compute target>)``."""

    _compute_type: ClassVar[str] = "AKS"

    @staticmethod
    def deploy_configuration(
        autoscale_enabled: bool | None = None,
        autoscale_min_replicas: int | None = None,
        autoscale_max_replicas: int | None = None,
        autoscale_refresh_seconds: int | None = None,
        autoscale_target_utilization: int | None = None,
        collect_model_data: bool | None = None,
        auth_enabled: bool | None = None,
        cpu_cores: float | None = None,
        memory_gb: float | None = None,
        enable_app_insights: bool | None = None,
        scoring_timeout_ms: int | None = None,
        replica_max_concurrent_requests: int | None = None,
        max_request_wait_time: int | None = None,
        num_replicas: int | None = None,
        primary_key: str | None = None,
        secondary_key: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
        gpu_cores: int | None = None,
        period_seconds: int | None = None,
        initial_delay_seconds: int | None = None,
        timeout_seconds: int | None = None,
        success_threshold: int | None = None,
        failure_threshold: int | None = None,
        namespace: str | None = None,
        token_auth_enabled: bool | None = None,
        compute_target_name: str | None = None,
        cpu_cores_limit: float | None = None,
        memory_gb_limit: float | None = None,
        blobfuse_enabled: bool | None = None,
    ) -> AksServiceDeploymentConfiguration:
        """A deployment configuration (v1 defaults: autoscaling 1-10 replicas at 70 %
        utilization unless ``num_replicas`` is given, auth on, 0.1 cores, 0.5 GB).

        Kubernetes-only settings (probes, namespace, GPU, App Insights...) are accepted,
        recorded and noted as not used here.

        Raises:
            InvalidArgument: a replica count below 1, min above max, a utilization outside
                1-100, a non-positive size, or ``num_replicas`` with autoscaling on.
        """
        del max_request_wait_time  # queueing is Ray Serve's
        return AksServiceDeploymentConfiguration(
            autoscale_enabled=autoscale_enabled,
            autoscale_min_replicas=autoscale_min_replicas,
            autoscale_max_replicas=autoscale_max_replicas,
            autoscale_refresh_seconds=autoscale_refresh_seconds,
            autoscale_target_utilization=autoscale_target_utilization,
            collect_model_data=collect_model_data,
            auth_enabled=auth_enabled,
            cpu_cores=cpu_cores,
            memory_gb=memory_gb,
            enable_app_insights=enable_app_insights,
            scoring_timeout_ms=scoring_timeout_ms,
            replica_max_concurrent_requests=replica_max_concurrent_requests,
            num_replicas=num_replicas,
            primary_key=primary_key,
            secondary_key=secondary_key,
            tags=tags,
            properties=properties,
            description=description,
            gpu_cores=gpu_cores,
            period_seconds=period_seconds,
            initial_delay_seconds=initial_delay_seconds,
            timeout_seconds=timeout_seconds,
            success_threshold=success_threshold,
            failure_threshold=failure_threshold,
            namespace=namespace,
            token_auth_enabled=token_auth_enabled,
            compute_target_name=compute_target_name,
            cpu_cores_limit=cpu_cores_limit,
            memory_gb_limit=memory_gb_limit,
            blobfuse_enabled=blobfuse_enabled,
        )

    def _backend(self) -> RayServeBackend:  # type: ignore[override]
        return ray_backend(self._workspace, str(self._record.config.get("target", "")))

    def replicas(self) -> int:
        """How many replicas are running now."""
        return self._backend().replicas(self.name)

    def replica_nodes(self) -> list[str]:
        """The Ray node id of each running replica (where the cluster placed them)."""
        return [str(r.get("node_id")) for r in self._backend().replica_details(self.name)]

    def _redeploy(self, models: Any, inference_config: Any) -> None:
        raise WebserviceException(
            "Updating an AKS service in place is not supported here: deploy it again with "
            "overwrite=True."
        )

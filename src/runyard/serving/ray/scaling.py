"""How many replicas a Ray Serve service runs: SDK v1's AKS settings in Serve's terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReplicaSettings:
    """Replicas and their autoscaling, as ``AksWebservice.deploy_configuration`` sets them.

    Attributes:
        num_replicas: A fixed number of replicas (autoscaling off), or None.
        autoscale_min_replicas: The fewest replicas when autoscaling.
        autoscale_max_replicas: The most replicas when autoscaling.
        autoscale_target_utilization: The busy share (percent) of a replica's capacity
            that autoscaling aims at.
        autoscale_refresh_seconds: How often autoscaling looks.
        max_concurrent_requests_per_container: A replica's capacity (requests at once).
        cpu_cores: CPUs reserved per replica (Ray's ``num_cpus``).
        memory_gb: Memory reserved per replica (Ray's ``memory``; scheduling only).
    """

    num_replicas: int | None = None
    autoscale_min_replicas: int = 1
    autoscale_max_replicas: int = 10
    autoscale_target_utilization: int = 70
    autoscale_refresh_seconds: float = 1.0
    max_concurrent_requests_per_container: int = 1
    cpu_cores: float = 0.1
    memory_gb: float = 0.5

    def serve_options(self) -> dict[str, Any]:
        """The Serve deployment options: replicas or autoscaling, and actor resources."""
        options: dict[str, Any] = {
            "max_ongoing_requests": max(1, self.max_concurrent_requests_per_container) * 2,
            "ray_actor_options": {
                "num_cpus": self.cpu_cores,
                "memory": int(self.memory_gb * 2**30),
            },
        }
        if self.num_replicas is not None:
            options["num_replicas"] = self.num_replicas
            return options
        # v1: a replica at target_utilization% of its concurrent-request capacity.
        target = self.max_concurrent_requests_per_container * self.autoscale_target_utilization
        options["autoscaling_config"] = {
            "min_replicas": self.autoscale_min_replicas,
            "initial_replicas": self.autoscale_min_replicas,
            "max_replicas": self.autoscale_max_replicas,
            "target_ongoing_requests": max(0.1, target / 100),
            "upscale_delay_s": self.autoscale_refresh_seconds,
            "downscale_delay_s": max(self.autoscale_refresh_seconds, 10.0),
            "metrics_interval_s": min(self.autoscale_refresh_seconds, 10.0),
            "look_back_period_s": max(self.autoscale_refresh_seconds * 3, 3.0),
        }
        return options

    def __str__(self) -> str:
        if self.num_replicas is not None:
            return f"{self.num_replicas} replica(s)"
        return (
            f"autoscaled {self.autoscale_min_replicas}-{self.autoscale_max_replicas} replicas "
            f"at {self.autoscale_target_utilization}% utilization"
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplicaSettings:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

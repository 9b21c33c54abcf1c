"""Ray compute: cluster targets (``ClusterCompute``/``AmlCompute``) whose runs' executors run
as Ray tasks on a local head Runyard owns, Ray's autoscaling test cluster, or an attached
cluster. Only the drivers Runyard starts inside a cluster import Ray; the SDK talks to
clusters over Ray's HTTP job API. Names are imported on first use, so that the modules run
with ``python -m`` inside a cluster are not imported twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runyard.compute.ray.backend import RayComputeBackend

__all__ = ["RayComputeBackend"]


def __getattr__(name: str) -> Any:
    if name == "RayComputeBackend":
        from runyard.compute.ray.backend import RayComputeBackend

        return RayComputeBackend
    raise AttributeError(f"module 'runyard.compute.ray' has no attribute {name!r}")

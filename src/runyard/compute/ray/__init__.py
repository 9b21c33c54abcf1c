"""Ray compute: cluster targets (``ClusterCompute``/``AmlCompute``) whose runs' executors run
as Ray jobs on a local head Runyard owns, Ray's autoscaling test cluster, or an attached
cluster. Only the head's own processes import Ray; this package talks to clusters over
Ray's HTTP job API."""

from runyard.compute.ray.backend import RayComputeBackend

__all__ = ["RayComputeBackend"]

"""Local compute: submitted runs as processes on this machine."""

from runyard.compute.local.backend import LocalComputeBackend

__all__ = ["LocalComputeBackend"]

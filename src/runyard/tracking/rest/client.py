"""The HTTP client under the REST adapters; it lives in :mod:`runyard.rest_client`, below
both ``tracking`` and ``artifacts``, which both talk to the server. Re-exported here so
the tracking adapter's imports read as before."""

from runyard.rest_client import API_PREFIX, ApiClient

__all__ = ["API_PREFIX", "ApiClient"]

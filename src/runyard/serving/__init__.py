"""Serving models as web services: the ServingBackend port and its adapters.

``backend.py`` is the port (deploy, status, logs, delete); ``local/`` serves on this
machine, a detached supervisor per service; ``server/`` is the scoring server process that
runs a service's ``score.py``. Nothing here imports the SDK: the SDK front
(``runyard.core.webservice``) drives the port, and the scoring server gets everything from
a :class:`runyard.entities.service.ServiceDefinition`.

``batch`` is for scoring scripts: ``@batch`` on ``run`` opts in to request batching
(``runyard.serving.batching``).
"""

from runyard.serving.batching import batch

__all__ = ["batch"]

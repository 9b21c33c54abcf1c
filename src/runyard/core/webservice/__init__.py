"""Web services (SDK v1: ``azureml.core.webservice``): ``Webservice``,
``AciWebservice``, ``LocalWebservice``.

Every service runs on this machine: a detached scoring server on 127.0.0.1 running the
service's ``score.py`` (see ``docs/deploy.md``).
"""

from runyard.core.webservice.aci import AciServiceDeploymentConfiguration, AciWebservice
from runyard.core.webservice.errors import WebserviceException
from runyard.core.webservice.local import LocalWebservice, LocalWebserviceDeploymentConfiguration
from runyard.core.webservice.webservice import Webservice

__all__ = [
    "AciServiceDeploymentConfiguration",
    "AciWebservice",
    "LocalWebservice",
    "LocalWebserviceDeploymentConfiguration",
    "Webservice",
    "WebserviceException",
]

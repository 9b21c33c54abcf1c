"""Web services (SDK v1: ``azureml.core.webservice``): ``Webservice``,
``AciWebservice``, ``LocalWebservice``, ``AksWebservice``.

ACI and local services run on this machine: a detached scoring server on 127.0.0.1
running the service's ``score.py``; AKS services run as replicas on a cluster target's
Ray Serve (see ``docs/deploy.md``).
"""

from runyard.core.webservice.aci import AciServiceDeploymentConfiguration, AciWebservice
from runyard.core.webservice.aks import AksServiceDeploymentConfiguration, AksWebservice
from runyard.core.webservice.errors import WebserviceException
from runyard.core.webservice.local import LocalWebservice, LocalWebserviceDeploymentConfiguration
from runyard.core.webservice.webservice import Webservice

__all__ = [
    "AciServiceDeploymentConfiguration",
    "AciWebservice",
    "AksServiceDeploymentConfiguration",
    "AksWebservice",
    "LocalWebservice",
    "LocalWebserviceDeploymentConfiguration",
    "Webservice",
    "WebserviceException",
]

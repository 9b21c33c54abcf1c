"""WebserviceException: SDK v1's error for web services (``azureml.exceptions``)."""

from __future__ import annotations

from runyard.errors import InvalidState, NotFound


class WebserviceException(InvalidState):
    """A web service could not be deployed, reached or changed; the message says why and
    what to do. Its code is ``invalid_state`` (``not_found`` for WebserviceNotFound)."""


class WebserviceNotFound(WebserviceException, NotFound):
    """``Webservice(workspace, name)`` of a name that is not deployed."""

    code = "not_found"

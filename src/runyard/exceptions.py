"""SDK v1's exception names (``azureml.exceptions``), over Runyard's one error tree
(:mod:`runyard.errors`), so ``except UserErrorException:`` in v1 code catches what it did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runyard.errors import RunyardError, UserError

if TYPE_CHECKING:
    from runyard.core.webservice.errors import WebserviceException

#: The base of every error Runyard raises on purpose (v1: ``AzureMLException``).
AzureMLException = RunyardError
#: A wrong call: a name that does not exist or exists already, a bad argument.
UserErrorException = UserError

__all__ = ["AzureMLException", "UserErrorException", "WebserviceException"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: ``import runyard.exceptions`` stays as light as the error tree.
    if name == "WebserviceException":
        from runyard.core.webservice.errors import WebserviceException

        return WebserviceException
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

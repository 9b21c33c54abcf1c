"""SDK v1's exception names (``azureml.exceptions``), over Runyard's one error tree
(:mod:`runyard.errors`), so ``except UserErrorException:`` in v1 code catches what it did.
"""

from __future__ import annotations

from runyard.errors import RunyardError, UserError

#: The base of every error Runyard raises on purpose (v1: ``AzureMLException``).
AzureMLException = RunyardError
#: A wrong call: a name that does not exist or exists already, a bad argument.
UserErrorException = UserError

__all__ = ["AzureMLException", "UserErrorException"]

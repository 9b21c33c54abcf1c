"""Runyard: train, track, tune and register ML models on your own hardware, with the Azure
ML SDK v1 object model.

    from runyard.core import Workspace, Experiment, Run
"""

from __future__ import annotations

from runyard.errors import (
    AlreadyExists,
    BackendError,
    Forbidden,
    InvalidArgument,
    InvalidState,
    NotFound,
    RunyardError,
    Unauthorized,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "BackendError",
    "Forbidden",
    "InvalidArgument",
    "InvalidState",
    "NotFound",
    "RunyardError",
    "Unauthorized",
    "__version__",
]

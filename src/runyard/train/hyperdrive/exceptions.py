"""SDK v1's HyperDrive exception names, placed in Runyard's one error tree.

Both are :class:`runyard.errors.InvalidArgument` (code ``invalid_argument``), so code that
catches either the v1 name or Runyard's class works.
"""

from __future__ import annotations

from runyard.errors import InvalidArgument


class HyperDriveConfigException(InvalidArgument):
    """A HyperDriveConfig argument is missing, malformed or out of range."""


class HyperDriveScenarioNotSupportedException(InvalidArgument):
    """A valid combination that HyperDrive does not support (a policy with Bayesian
    sampling, a pipeline)."""

"""``runyard.widgets``: ``RunDetails(run).show()``, with SDK v1's name.

Runyard has no live notebook widget yet; ``show()`` prints a text snapshot of the run (as
v1 does where widgets are not installed): its status, its children so far (for a
HyperDrive run, their hyperparameters and best primary metric, best first) and where to
look next.
"""

from __future__ import annotations

from runyard.widgets.run_details import RunDetails

__all__ = ["RunDetails"]

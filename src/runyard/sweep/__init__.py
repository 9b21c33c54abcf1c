"""Running a tuning study for real: the HyperDrive controller process and its children.

The tuning engine (:mod:`runyard.tuning`) is pure; this package connects it to the stores
and compute: :mod:`~runyard.sweep.children` is the engine's TrialRunner over child runs,
:mod:`~runyard.sweep.controller` the detached process that drives a study
(``python -m runyard.sweep RUN_ID``), :mod:`~runyard.sweep.launch` starts it (and starts it
again when it died), :mod:`~runyard.sweep.arguments` builds a trial's command line.

It sits between the SDK front and compute: it submits children through the compute
registry, and never imports the SDK (``runyard.core``/``runyard.train``), so it takes a
:class:`~runyard.resources.WorkspaceResources`, not a Workspace.
"""

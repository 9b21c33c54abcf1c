"""``runyard.widgets``: ``RunDetails(run).show()``, with SDK v1's name.

In a Jupyter kernel with the ``widgets`` extra (``pip install 'runyard[widgets]'``),
``show()`` displays a live widget (anywidget): the run's status, its metrics as charts,
the tail of its log and, for a HyperDrive run, the child runs (status, hyperparameters,
primary metric) and a parallel-coordinates chart, updated every second until the run
ends. Its data is read by the kernel through the workspace's stores and reaches the
browser over the kernel's comm channel, so it works on an embedded workspace and on a
team server's alike.

Elsewhere (a script, a terminal) ``show()`` prints a text view of the run, as v1 does
where widgets are not installed, with the link to the run's page on a server workspace.

Modules: ``run_details`` (the front), ``watcher`` (one look at a run) over ``series``,
``logs`` and ``children`` (each reads only what is new), ``parallel`` (the chart's data),
``records`` (what the widget syncs), ``live`` (the anywidget and its thread; imported
only when shown), ``text`` (the text view), ``links`` (the run's page), ``static/`` (the
front end: a plain ES module and its CSS).
"""

from __future__ import annotations

from runyard.widgets.run_details import RunDetails

__all__ = ["RunDetails"]

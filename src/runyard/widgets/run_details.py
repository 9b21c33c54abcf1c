"""RunDetails: SDK v1's ``RunDetails(run).show()`` (see the package docstring)."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any

from runyard.errors import InvalidArgument
from runyard.widgets.links import run_page_url
from runyard.widgets.text import text_view

if TYPE_CHECKING:
    from runyard.core.run import Run
    from runyard.widgets.live import RunDetailsWidget

INSTALL_HINT = (
    "The live widget needs anywidget in this kernel: pip install 'runyard[widgets]', "
    "then restart the kernel."
)


def in_jupyter_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (where a widget can be displayed), not
    in a plain interpreter or a terminal IPython."""
    if "IPython" not in sys.modules:  # a kernel has always imported it; a script need not
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def anywidget_installed() -> bool:
    """Whether the ``widgets`` extra (anywidget) is installed."""
    import importlib.util

    return importlib.util.find_spec("anywidget") is not None


class RunDetails:
    """A run's details, live: SDK v1's notebook widget.

    In a Jupyter kernel with ``runyard[widgets]`` installed, :meth:`show` displays a
    widget that follows the run until it ends: its status, its metrics as charts, the
    tail of its log and, for a HyperDrive run, its children (status, hyperparameters,
    primary metric) and a parallel-coordinates chart. Elsewhere it prints a text view of
    the run, with the link to the run's page when the workspace is a team server's.

    Args:
        run_instance: a Run or a HyperDriveRun.

    Raises:
        InvalidArgument: ``run_instance`` is not a run of a workspace (an offline run,
            say, which has nothing to show).
    """

    def __init__(self, run_instance: Run) -> None:
        from runyard.core.run import Run

        if not isinstance(run_instance, Run):
            raise InvalidArgument(
                f"RunDetails shows a run of a workspace (Run, HyperDriveRun), got "
                f"{type(run_instance).__name__}. An offline run (a script run by hand) "
                "prints what it logs instead."
            )
        self.run_instance = run_instance
        #: The live widget once :meth:`show` displayed one, else None.
        self.widget: RunDetailsWidget | None = None

    @property
    def page_url(self) -> str | None:
        """The run's page in the web UI when its workspace is a team server's, else None."""
        run = self.run_instance
        return run_page_url(run.workspace.config, run.id)

    def show(self, out: IO[str] | None = None) -> None:
        """Display the live widget in a Jupyter kernel; elsewhere print the text view.

        Args:
            out: where the text view goes (default stdout).

        Raises:
            NotFound: the run does not exist (the text view; the widget says so instead).
            MissingDependency: the widget's front end is missing from the installation.
        """
        if in_jupyter_kernel() and anywidget_installed():
            from IPython.display import display

            if self.widget is None:
                self.widget = self.live_widget()
            display(self.widget)
            return
        stream = out or sys.stdout
        text = self.render()
        if in_jupyter_kernel():
            text += INSTALL_HINT + "\n"
        stream.write(text)
        stream.flush()

    def live_widget(self, **options: Any) -> RunDetailsWidget:
        """A new live widget following the run: its header read, its thread started
        (needs ``runyard[widgets]``).

        Args:
            options: ``refresh_seconds``, the seconds between two looks (default 1).

        Raises:
            MissingDependency: anywidget is not installed, or the widget's front end is
                missing from the installation.
        """
        if not anywidget_installed():
            from runyard.errors import MissingDependency

            raise MissingDependency(INSTALL_HINT)
        from runyard.widgets.live import live_widget
        from runyard.widgets.watcher import RunWatcher

        run = self.run_instance
        watcher = RunWatcher(run.workspace.resources, run.id, page_url=self.page_url)
        return live_widget(watcher, **options)

    def render(self) -> str:
        """The text view of the run now (what :meth:`show` prints outside a kernel)."""
        run = self.run_instance
        return text_view(run.workspace.resources, run.id, self.page_url)

    def close(self) -> None:
        """Stop following the run and close the widget, if one was shown."""
        if self.widget is not None:
            self.widget.close()

"""The live widget: an anywidget whose traitlets carry a :class:`RunView` to the browser.

A thread in the kernel looks at the run every ``REFRESH_SECONDS`` (with
:class:`runyard.widgets.watcher.RunWatcher`) and sets the traitlets that changed, in one
message; ipywidgets carries them to the browser over the kernel's comm channel, so the
browser draws what the kernel read and never reaches a server. ``show()`` returns at once
with the run's header; the thread takes the first full look (which may read a long
history) right away. The thread stops when the run ends (after the look that saw the end,
which holds everything the run logged) or when the widget is closed. It keeps going while
a cell blocks the kernel (such as ``run.wait_for_completion()``), as SDK v1's widget did.

The front end is ``static/run_details.js`` (plain ES module, anywidget's
``render({model, el})``, no third-party code) with ``static/run_details.css``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from runyard.errors import MissingDependency, NotFound, RunyardError
from runyard.widgets.records import RunView
from runyard.widgets.watcher import RunWatcher

#: Seconds between two looks at the run.
REFRESH_SECONDS = 1.0

STATIC = Path(__file__).with_name("static")


def front_end(name: str) -> str:
    """The text of front-end file ``name`` shipped in ``runyard/widgets/static/``.

    Raises:
        MissingDependency: the file is not in this installation (a broken install).
    """
    path = STATIC / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MissingDependency(
            f"The RunDetails widget's front end {path} is missing from this installation "
            "of Runyard; reinstall it: pip install --force-reinstall 'runyard[widgets]'."
        ) from exc


def describe(exc: BaseException) -> str:
    """An error as the widget shows it."""
    if isinstance(exc, RunyardError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class RunDetailsWidget(anywidget.AnyWidget):
    """The widget ``RunDetails(run).show()`` displays in a notebook.

    Traitlets (kept in sync with the browser): ``header``, ``series``, ``log``,
    ``tuning`` (see :mod:`runyard.widgets.records` for their JSON; ``tuning`` is ``{}``
    for a run that is not a HyperDrive run), ``loaded`` (the first full look is in),
    ``done`` (the run ended and the widget stopped following it) and ``problem`` (why
    the last look failed; "" when it did not).

    Args:
        watcher: what looks at the run.
        refresh_seconds: seconds between two looks.
    """

    _esm = front_end("run_details.js")
    _css = front_end("run_details.css")

    header = traitlets.Dict().tag(sync=True)
    series = traitlets.List(traitlets.Dict()).tag(sync=True)
    log = traitlets.Dict().tag(sync=True)
    tuning = traitlets.Dict().tag(sync=True)  # {} for a run that is not a HyperDrive run
    loaded = traitlets.Bool(False).tag(sync=True)
    done = traitlets.Bool(False).tag(sync=True)
    problem = traitlets.Unicode("").tag(sync=True)

    def __init__(self, watcher: RunWatcher, refresh_seconds: float = REFRESH_SECONDS) -> None:
        super().__init__()
        self._watcher = watcher
        self._refresh_seconds = refresh_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RunDetailsWidget:
        """Show the run's header now and follow the run from a thread, whose first look
        (the run's metrics so far, its log) is taken at once; returns the widget."""
        if self._thread is not None:
            return self
        try:
            self.header = self._watcher.header().to_json()
        except NotFound as exc:  # nothing to follow
            self.problem = describe(exc)
            return self
        except Exception as exc:  # out of reach for now: the thread tries again
            self.problem = describe(exc)
        self._thread = threading.Thread(
            target=self._follow, name=f"runyard-widget-{self._watcher.run_id}", daemon=True
        )
        self._thread.start()
        return self

    @property
    def following(self) -> bool:
        """Whether the thread still follows the run."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop following the run (the widget keeps what it shows)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def close(self) -> None:
        """Stop following the run and close the widget."""
        self.stop()
        super().close()

    def show_view(self, view: RunView) -> None:
        """Set the traitlets to ``view`` (only those that changed travel, in one message)."""
        with self.hold_sync():
            self.header = view.header.to_json()
            self.series = [s.to_json() for s in view.series]
            self.log = view.log.to_json()
            self.tuning = {} if view.tuning is None else view.tuning.to_json()
            self.problem = ""
            self.loaded = True
            if view.header.is_terminal:
                self.done = True

    def _look(self) -> bool:
        """One look; False when there is nothing more to follow."""
        try:
            view = self._watcher.poll()
        except NotFound as exc:  # the run is gone: nothing will change any more
            self.problem = describe(exc)
            return False
        except Exception as exc:  # a server that is down: say so and look again later
            self.problem = describe(exc)
            return True
        self.show_view(view)
        return not view.header.is_terminal

    def _follow(self) -> None:
        while self._look() and not self._stop.wait(self._refresh_seconds):
            pass


def live_widget(watcher: RunWatcher, **options: Any) -> RunDetailsWidget:
    """A widget following ``watcher``'s run, started (see :meth:`RunDetailsWidget.start`)."""
    return RunDetailsWidget(watcher, **options).start()

"""RunDetails: the watcher's views, the live widget's thread and the text fallback."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from runyard.config import WorkspaceConfig
from runyard.core import Experiment
from runyard.core.offline_run import OfflineRun
from runyard.errors import BackendError, InvalidArgument, MissingDependency, NotFound
from runyard.widgets import RunDetails, run_details
from runyard.widgets.links import run_page_url
from runyard.widgets.live import RunDetailsWidget, front_end
from runyard.widgets.text import text_view
from runyard.widgets.watcher import RunWatcher

WAIT_S = 20.0


def wait_until(predicate, what):
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def run(ws):
    run = Experiment(ws, "details").start_logging()
    yield run
    if not run._refresh().is_terminal:
        run.complete()


def test_a_view_taken_after_the_end_holds_every_value_logged(ws, run):
    watcher = RunWatcher(ws.resources, run.id)
    first = watcher.poll()
    assert first.header.status == "Running" and not first.header.is_terminal
    assert first.series == () and first.tuning is None
    for i in range(5):
        run.log("loss", 1 / (i + 1))
    run.complete()
    last = watcher.poll()
    assert last.header.status == "Completed" and last.header.is_terminal
    (loss,) = last.series
    assert loss.count == 5 and loss.y[-1] == 0.2
    assert json.dumps(last.header.to_json()) and last.header.ended_at is not None


def test_a_failed_run_shows_its_error(ws, run):
    run.fail(error_details="diverged at epoch 3")
    view = RunWatcher(ws.resources, run.id).poll()
    assert view.header.status == "Failed" and "diverged at epoch 3" in (view.header.error or "")


def test_the_live_widget_follows_the_run_from_a_thread_until_it_ends(ws, run):
    widget = RunDetails(run).live_widget(refresh_seconds=0.1)
    try:
        assert widget.header["status"] == "Running" and widget.following
        seen: list[int] = []

        def count():
            counts = [s["count"] for s in widget.series if s["name"] == "loss"]
            if counts and (not seen or counts[0] != seen[-1]):
                seen.append(counts[0])
            return bool(counts) and counts[0] >= 30

        stop = threading.Event()

        def train():
            for i in range(30):
                run.log("loss", 1.0 / (i + 1))
                run.flush()
                time.sleep(0.02)
            stop.wait(WAIT_S)

        logger = threading.Thread(target=train)
        logger.start()
        wait_until(count, "the widget to show all 30 values")
        assert len(seen) >= 2  # it advanced, not one jump at the end
        stop.set()
        logger.join()
        run.complete()
        wait_until(lambda: widget.done, "the widget to see the end")
        wait_until(lambda: not widget.following, "the thread to stop")
        assert widget.header["status"] == "Completed" and widget.problem == ""
    finally:
        widget.close()


def test_a_finished_run_is_shown_once_and_not_followed(ws, run):
    run.log("acc", 0.9)
    run.complete()
    widget = RunDetails(run).live_widget()
    assert widget.header["status"] == "Completed"  # at once, before the first full look
    wait_until(lambda: not widget.following, "the one look")
    assert widget.done and widget.loaded
    assert widget.series[0]["y"] == [0.9]
    widget.close()


class FlakyWatcher:
    """A watcher whose workspace is out of reach for its first looks."""

    def __init__(self, real, failures):
        self.run_id = real.run_id
        self._real = real
        self.failures = failures

    def header(self):
        return self._real.header()

    def poll(self):
        if self.failures:
            self.failures -= 1
            raise BackendError("Server http://127.0.0.1:9 is not answering.")
        return self._real.poll()


def test_a_look_that_fails_is_shown_and_the_widget_keeps_looking(ws, run):
    watcher = FlakyWatcher(RunWatcher(ws.resources, run.id), failures=3)
    widget = RunDetailsWidget(watcher, refresh_seconds=0.05).start()
    try:
        assert widget.header["status"] == "Running" and widget.following
        wait_until(lambda: "not answering" in widget.problem, "the failed look to show")
        wait_until(lambda: widget.loaded, "a look that works")
        assert widget.problem == ""
    finally:
        widget.close()
    assert not widget.following


def test_a_run_that_is_gone_stops_the_widget_with_the_reason(ws, run):
    class Gone:
        run_id = run.id
        polls = 0

        def header(self):
            return RunWatcher(ws.resources, run.id).header()

        def poll(self):
            self.polls += 1
            raise NotFound(f"Run {run.id} not found.")

    gone = Gone()
    widget = RunDetailsWidget(gone, refresh_seconds=0.01).start()
    wait_until(lambda: not widget.following, "the widget to stop")
    assert "not found" in widget.problem and gone.polls == 1
    widget.close()


def test_a_run_that_does_not_exist_is_not_followed(ws, run):
    widget = RunDetailsWidget(RunWatcher(ws.resources, "no_such_run")).start()
    assert "not found" in widget.problem.lower() and not widget.following
    widget.close()


def test_a_missing_front_end_file_is_a_clear_error():
    assert "export default" in front_end("run_details.js")
    with pytest.raises(MissingDependency, match="reinstall"):
        front_end("missing.js")


def test_outside_a_kernel_show_prints_the_text_view(ws, run):
    run.log("loss", 0.5)
    out = io.StringIO()
    details = RunDetails(run)
    details.show(out=out)
    text = out.getvalue()
    assert f"Run {run.id} (interactive)" in text and "Status: Running" in text
    assert "Run page:" not in text  # an embedded workspace has no web page
    assert details.widget is None


def test_in_a_kernel_without_the_extra_show_says_how_to_get_the_widget(ws, run, monkeypatch):
    monkeypatch.setattr(run_details, "in_jupyter_kernel", lambda: True)
    monkeypatch.setattr(run_details, "anywidget_installed", lambda: False)
    out = io.StringIO()
    RunDetails(run).show(out=out)
    assert "Status: Running" in out.getvalue()
    assert "pip install 'runyard[widgets]'" in out.getvalue()
    with pytest.raises(MissingDependency, match=r"runyard\[widgets\]"):
        RunDetails(run).live_widget()


def test_a_server_workspace_run_has_a_page_link_in_the_text_view(ws, run):
    config = WorkspaceConfig(workspace_name="team", server="http://127.0.0.1:8080/")
    url = run_page_url(config, run.id)
    assert url == f"http://127.0.0.1:8080/w/team/runs/{run.id}"
    assert run_page_url(ws.config, run.id) is None
    assert f"Run page: {url}" in text_view(ws.resources, run.id, url)


def test_the_text_view_of_a_hyperdrive_run_not_started_yet_says_so(ws):
    Experiment(ws, "tune")
    from runyard.entities.run import RunStatus

    ws.resources.store.create_run(
        "tune", run_id="hd", status=RunStatus.QUEUED, run_type="hyperdrive"
    )
    assert "No children yet." in text_view(ws.resources, "hd")


def test_only_runs_of_a_workspace_can_be_shown():
    with pytest.raises(InvalidArgument, match="offline run"):
        RunDetails(OfflineRun())
    with pytest.raises(InvalidArgument, match="got str"):
        RunDetails("exp_1")  # type: ignore[arg-type]

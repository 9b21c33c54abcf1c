"""RunDetails in a real Jupyter kernel: a notebook executed with nbclient shows the widget,
logs values from a thread and reads the widget's traitlets back through the kernel; on an
embedded workspace, and on one whose config names a server (a real server process: the
run logs over REST and the widget reads it back the same way)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
import pytest

from server_process import start_server

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("anywidget")

pytestmark = pytest.mark.integration

CELLS = [
    """
    import json, threading, time
    from runyard.core import Workspace, Experiment
    from runyard.widgets import RunDetails

    ws = {open_workspace}
    run = Experiment(ws, "notebook").start_logging()
    details = RunDetails(run)
    details.show()
    widget = details.widget
    print(json.dumps({{
        "type": type(widget).__name__,
        "status": widget.header["status"],
        "store": type(ws.resources.store).__name__,
    }}))
    """,
    """
    # The script logs from a thread; this cell only reads the widget's traitlets, which
    # the widget's own thread in the kernel keeps up to date.
    def train():
        for i in range(40):
            run.log("loss", 1.0 / (i + 1))
            run.flush()
            time.sleep(0.05)
        run.complete()

    logger = threading.Thread(target=train)
    logger.start()
    seen, statuses = [], []
    deadline = time.monotonic() + 60
    while not widget.done and time.monotonic() < deadline:
        counts = [s["count"] for s in widget.series if s["name"] == "loss"]
        if counts and (not seen or seen[-1] != counts[0]):
            seen.append(counts[0])
        if not statuses or statuses[-1] != widget.header["status"]:
            statuses.append(widget.header["status"])
        time.sleep(0.05)
    logger.join()
    time.sleep(0.3)
    print(json.dumps({{
        "seen": seen,
        "statuses": statuses + [widget.header["status"]],
        "done": widget.done,
        "following": widget.following,
        "loss": widget.series[0],
        "log": widget.log,
    }}))
    """,
]


def _last_json(cell) -> dict:
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_the_widget_advances_in_a_kernel_and_ends_with_the_final_status(tmp_path):
    opened = f"Workspace.create('nb', path={str(tmp_path / 'ws')!r})"
    _run_and_check(tmp_path, opened, "SqlTrackingStore")


def test_the_widget_advances_on_a_server_workspace(tmp_path, monkeypatch):
    from runyard.core import Workspace

    Workspace.create("team", path=tmp_path / "team").close()
    server = start_server(
        str(tmp_path / "team"), log_dir=str(tmp_path), extra_args=["--home", str(tmp_path / "h")]
    )
    try:
        # The kernel inherits the environment: its client finds the token there, and the
        # workspace's config names the server (what a team member's notebook has).
        monkeypatch.setenv("RUNYARD_TOKEN", str(server.token))
        client = tmp_path / "client"
        (client / ".runyard").mkdir(parents=True)
        (client / ".runyard" / "config.json").write_text(
            json.dumps({"workspace_name": "team", "server": server.url}), encoding="utf-8"
        )
        _run_and_check(tmp_path, f"Workspace.from_config({str(client)!r})", "RestTrackingStore")
        # What the widget showed is what the server holds, and the link to the run's page
        # that its text view prints is a page of the server's web UI.
        with server.client() as http:
            runs = http.get("/api/v1/workspaces/team/runs", params={"experiment": "notebook"})
            (record,) = runs.json()["runs"]
        assert record["status"] == "Completed"
        from runyard.config import WorkspaceConfig
        from runyard.widgets.links import run_page_url

        config = WorkspaceConfig.from_dict({"workspace_name": "team", "server": server.url})
        page = httpx.get(str(run_page_url(config, record["run_id"])))
        assert page.status_code == 200 and "<title>Runyard</title>" in page.text
    finally:
        server.stop()


def _run_and_check(tmp_path: Path, open_workspace: str, store: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(textwrap.dedent(c).format(open_workspace=open_workspace))
        for c in CELLS
    ]
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    errors = [o for c in notebook.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors

    shown, followed = notebook.cells
    assert _last_json(shown) == {"type": "RunDetailsWidget", "status": "Running", "store": store}
    views = [
        o.data["application/vnd.jupyter.widget-view+json"]
        for o in shown.outputs
        if o.output_type == "display_data" and "application/vnd.jupyter.widget-view+json" in o.data
    ]
    assert len(views) == 1  # the cell displayed a widget, not text

    state = _last_json(followed)
    assert len(state["seen"]) >= 2 and state["seen"] == sorted(state["seen"])  # it advanced
    assert state["seen"][-1] <= 40 and state["loss"]["count"] == 40
    assert state["loss"]["y"][-1] == pytest.approx(1 / 40)
    assert state["statuses"][0] == "Running" and state["statuses"][-1] == "Completed"
    assert state["done"] is True and state["following"] is False

    # What the kernel sent over the comm channel, as the front end (here nbclient)
    # received it: the model with its front end, then the updates the widget's thread
    # sent while the run went on, up to its end.
    received = client.widget_state[views[0]["model_id"]]
    assert received["_model_name"] == "AnyModel"
    assert "export default" in received["_esm"]
    assert received["header"]["status"] == "Completed" and received["done"] is True
    assert received["series"][0]["count"] == 40

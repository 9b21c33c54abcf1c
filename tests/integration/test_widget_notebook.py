"""RunDetails in a real Jupyter kernel: a notebook executed with nbclient shows the widget,
logs values from a thread and reads the widget's traitlets back through the kernel."""

from __future__ import annotations

import json
import textwrap

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("anywidget")

pytestmark = pytest.mark.integration

CELLS = [
    """
    import json, threading, time
    from runyard.core import Workspace, Experiment
    from runyard.widgets import RunDetails

    ws = Workspace.create("nb", path={workspace!r})
    run = Experiment(ws, "notebook").start_logging()
    details = RunDetails(run)
    details.show()
    widget = details.widget
    print(json.dumps({{"type": type(widget).__name__, "status": widget.header["status"]}}))
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
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(textwrap.dedent(c).format(workspace=str(tmp_path / "ws")))
        for c in CELLS
    ]
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    errors = [o for c in notebook.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors

    shown, followed = notebook.cells
    assert _last_json(shown) == {"type": "RunDetailsWidget", "status": "Running"}
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

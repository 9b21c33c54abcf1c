"""The widget's front end in real Chromium: ``run_details.js`` renders the state the kernel
side builds for real runs (read from a real store) and redraws when a traitlet changes.

The page gives the module a model object with anywidget's ``get``/``on``/``off`` (what
anywidget hands ``render``), and reports what it drew, read back from the page's SVG and
DOM: the points of each line, the rows of the child table, the lines of the parallel
coordinates, and any error the page raised.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runyard.core import Experiment
from runyard.entities.metric import MetricRecord
from runyard.entities.run import RunStatus
from runyard.entities.run_details import TUNING_STATE
from runyard.tuning.records import Goal
from runyard.tuning.space import Choice, LogUniform
from runyard.tuning.study import StudyState, TuningSpec
from runyard.widgets.live import front_end
from runyard.widgets.watcher import RunWatcher

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html>
<html><body><pre id="result"></pre>
<script type="module">
const errors = [];
window.addEventListener("error", (e) => errors.push(String(e.message)));
class Model {
  constructor(state) { this.state = state; this.handlers = {}; }
  get(key) { return this.state[key]; }
  on(event, fn) { (this.handlers[event] ||= []).push(fn); }
  off(event, fn) { this.handlers[event] = (this.handlers[event] || []).filter((f) => f !== fn); }
  set(key, value) {
    this.state[key] = value;
    for (const fn of this.handlers["change:" + key] || []) fn();
  }
}
function points(d) {
  return d.split(/(?=[ML])/).map((p) => [p[0], ...p.slice(1).split(",").map(Number)]);
}
function drawn(el) {
  return {
    status: el.querySelector("[data-status]")?.getAttribute("data-status"),
    header: el.querySelector(".ry-head")?.textContent,
    charts: [...el.querySelectorAll("svg.ry-chart")].map((svg) => ({
      title: svg.querySelector(".ry-title").textContent,
      lines: [...svg.querySelectorAll("path.ry-line")].map((p) => ({
        points: points(p.getAttribute("d")),
        count: Number(p.getAttribute("data-points")),
      })),
    })),
    rows: [...el.querySelectorAll("tr[data-run-id]")].map((tr) => ({
      run_id: tr.getAttribute("data-run-id"),
      best: tr.classList.contains("ry-best"),
      cells: [...tr.children].map((td) => td.textContent),
    })),
    parallel: [...el.querySelectorAll("polyline")].map((p) => ({
      run_id: p.getAttribute("data-run-id"),
      best: p.classList.contains("ry-pbest"),
      points: p.getAttribute("points").split(" ").length,
    })),
    axes: [...el.querySelectorAll("svg.ry-parallel > text.ry-title")].map((t) => t.textContent),
    log: el.querySelector("pre.ry-log")?.textContent,
    text: el.textContent,
  };
}
const out = {};
try {
  const widget = (await import("./run_details.js")).default;
  const states = await (await fetch("./states.json")).json();
  for (const [name, state] of Object.entries(states.cases)) {
    const el = document.createElement("div");
    document.body.append(el);
    const model = new Model(state);
    widget.render({ model, el });
    out[name] = drawn(el);
    if (name === "run") {
      model.set("series", states.later.series);
      model.set("header", states.later.header);
      model.set("done", true);
      out.later = drawn(el);
    }
  }
} catch (e) { errors.push(String(e && e.stack || e)); }
out.errors = errors;
document.getElementById("result").textContent = JSON.stringify(out);
</script></body></html>
"""


def widget_state(view) -> dict:
    """The traitlets ``RunDetailsWidget.show_view`` would set for ``view``."""
    return {
        "header": view.header.to_json(),
        "series": [s.to_json() for s in view.series],
        "log": view.log.to_json(),
        "tuning": {} if view.tuning is None else view.tuning.to_json(),
        "loaded": True,
        "done": view.header.is_terminal,
        "problem": "",
    }


def log(ws, run_id, name, values, steps=None):
    ws.resources.store.log_metrics(
        [
            MetricRecord(run_id, name, v, step=None if steps is None else steps[i], logged_at=1.0)
            for i, v in enumerate(values)
        ]
    )


def make_sweep(ws) -> str:
    """A HyperDrive parent with three children in the store, as a sweep writes them."""
    store = ws.resources.store
    spec = TuningSpec(
        space={"--batch-size": Choice((25, 50)), "--learning-rate": LogUniform(-6.0, -1.0)},
        sampler="random",
        primary_metric_name="Accuracy",
        goal=Goal.MAXIMIZE,
        max_total_runs=3,
        max_concurrent_runs=3,
    )
    Experiment(ws, "tune")
    state = StudyState.new(spec, started_at=1.0).to_json()
    store.create_run(
        "tune",
        run_id="hd",
        status=RunStatus.RUNNING,
        run_type="hyperdrive",
        details={TUNING_STATE: state},
    )
    for n, (batch, rate, values) in enumerate(
        [(25, 0.01, [0.5, 0.8]), (50, 0.001, [0.7, 0.9]), (25, 0.1, [])]
    ):
        run_id = f"hd_{n}"
        store.create_run(
            "tune",
            run_id=run_id,
            status=RunStatus.RUNNING,
            parent_run_id="hd",
            run_type="submitted",
        )
        params = {"--batch-size": batch, "--learning-rate": rate}
        store.set_tags("hd", {run_id: json.dumps(params)})
        log(ws, run_id, "Accuracy", values)
    return "hd"


@pytest.fixture
def states(ws):
    run = Experiment(ws, "browser").start_logging()
    watcher = RunWatcher(ws.resources, run.id)
    log(ws, run.id, "loss", [4.0, 3.0, 2.0, 1.0], steps=[0, 1, 2, 3])
    log(ws, run.id, "acc", [0.1, float("nan"), 0.3, 0.4])
    ws.resources.artifacts.append_bytes(
        b"epoch 1\nepoch 2\n", f"runs/{run.id}/files/runyard-logs/driver.txt"
    )
    first = widget_state(watcher.poll())
    log(ws, run.id, "loss", [0.5, 0.25], steps=[4, 5])
    run.complete()
    later = widget_state(watcher.poll())
    parent = make_sweep(ws)
    tuning = widget_state(RunWatcher(ws.resources, parent).poll())
    reading = {**first, "loaded": False, "series": [], "log": {}}  # before the first look
    return {"cases": {"run": first, "tuning": tuning, "reading": reading}, "later": later}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test's output is the page's, not requests
        pass


def render_in_chromium(folder, timeout=60) -> dict:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/page.html"
        proc = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=5000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout, re.S)
    assert found and found.group(1), proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_front_end_draws_the_kernels_data_in_chromium(states, tmp_path):
    (tmp_path / "run_details.js").write_text(front_end("run_details.js"))
    (tmp_path / "states.json").write_text(json.dumps(states, allow_nan=False))
    (tmp_path / "page.html").write_text(PAGE)
    page = render_in_chromium(tmp_path)
    assert page["errors"] == []

    run = page["run"]
    assert run["status"] == "Running" and "live" in run["header"]
    charts = {c["title"].split("  ")[0]: c["lines"] for c in run["charts"]}
    (loss,) = charts["loss"]
    assert loss["count"] == 4 and [p[0] for p in loss["points"]] == ["M", "L", "L", "L"]
    xs = [p[1] for p in loss["points"]]
    ys = [p[2] for p in loss["points"]]
    assert xs == sorted(xs) and len(set(xs)) == 4  # by step, left to right
    # 4, 3, 2, 1 evenly spaced: the pixels step down the chart by equal amounts.
    assert ys == sorted(ys) and max(ys) - min(ys) > 100
    gaps = [b - a for a, b in itertools.pairwise(ys)]
    assert max(gaps) - min(gaps) < 0.2  # pixels are drawn to a tenth
    (acc,) = charts["acc"]
    assert acc["count"] == 3 and [p[0] for p in acc["points"]] == ["M", "M", "L"]  # NaN: a gap
    assert run["log"] == "epoch 1\nepoch 2"

    reading = page["reading"]  # the header at once; the charts say they are coming
    assert reading["status"] == "Running" and reading["charts"] == []
    assert reading["log"] == "(nothing yet)" and "Reading the run's metrics" in reading["text"]

    later = page["later"]  # after the traitlets changed: redrawn, not appended to
    assert later["status"] == "Completed" and "ended" in later["header"]
    (loss,) = {c["title"].split("  ")[0]: c["lines"] for c in later["charts"]}["loss"]
    assert loss["count"] == 6 and len(later["charts"]) == 2

    tuning = page["tuning"]
    assert [r["run_id"] for r in tuning["rows"]] == ["hd_1", "hd_0", "hd_2"]
    assert tuning["rows"][0]["best"] and tuning["rows"][0]["cells"][3] == "0.9"
    assert tuning["axes"] == ["--batch-size", "--learning-rate (log)", "Accuracy"]
    assert sorted(p["run_id"] for p in tuning["parallel"]) == ["hd_0", "hd_1"]
    assert [p["best"] for p in tuning["parallel"] if p["run_id"] == "hd_1"] == [True]
    assert all(p["points"] == 3 for p in tuning["parallel"])
    child_chart = [c for c in tuning["charts"] if c["title"] == "Accuracy by child"]
    assert child_chart and len(child_chart[0]["lines"]) == 2  # hd_2 has no value yet

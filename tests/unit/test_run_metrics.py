import math
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from runyard.core import Experiment, Run, Workspace
from runyard.errors import InvalidArgument


@pytest.fixture
def run(ws):
    r = Experiment(ws, "exp").start_logging()
    yield r


def test_one_value_is_a_scalar_several_make_a_list(run):
    run.log("loss", 0.5)
    run.log("acc", 0.1)
    run.log("acc", 0.2, step=2)
    assert run.get_metrics() == {"loss": 0.5, "acc": [0.1, 0.2]}
    assert run.get_metrics("acc") == {"acc": [0.1, 0.2]}


def test_a_string_value_is_kept_as_text_as_v1_does(run):
    run.log("optimizer", "adam")
    run.log("mixed", 1)
    run.log("mixed", "two", step=2)
    assert run.get_metrics() == {"optimizer": "adam", "mixed": [1.0, "two"]}
    assert isinstance(run.get_metrics("optimizer")["optimizer"], str)


def test_a_numeric_string_stays_text_not_a_number(run):
    run.log("threshold", "0.9")
    assert run.get_metrics()["threshold"] == "0.9"


def test_a_text_metric_longer_than_a_tag_value_is_refused(run):
    with pytest.raises(InvalidArgument, match="5000"):
        run.log("essay", "x" * 5001)
    run.flush()
    assert run.get_metrics() == {}


def test_nan_and_infinities_round_trip(run):
    run.log("m", float("nan"))
    run.log("m", float("inf"))
    run.log("m", float("-inf"))
    values = run.get_metrics()["m"]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf


@pytest.mark.parametrize("bad", [None, [1, 2], True, b"0.9"])
def test_non_numeric_log_is_refused_and_nothing_is_stored(run, bad):
    with pytest.raises(InvalidArgument, match="must be a number"):
        run.log("m", bad)
    assert run.get_metrics() == {}


@pytest.mark.parametrize("bad", [10**30, -(2**63) - 1, 1.5, "3", True, float("inf")])
def test_step_that_is_not_a_64_bit_integer_is_refused_and_nothing_is_lost(run, bad):
    run.log("m", 1.0, step=1)
    with pytest.raises(InvalidArgument, match="step for metric 'm'"):
        run.log("m", 2.0, step=bad)
    run.log("m", 3.0, step=2**63 - 1)
    run.log("m", 4.0, step=2.0)  # an integral float (numpy's, say) is that integer
    run.flush()
    assert run.get_metrics() == {"m": [1.0, 3.0, 4.0]}


def test_bad_metric_name_is_refused(run):
    with pytest.raises(InvalidArgument):
        run.log("", 1.0)
    with pytest.raises(InvalidArgument):
        run.log("x" * 300, 1.0)


def test_log_list_row_and_table_have_sdk_v1_shapes(run):
    run.log_list("lst", [1, 2, 3])
    run.log_row("curve", x=1, y=0.5)
    run.log_row("curve", x=2, y=0.25)
    run.log_table("tbl", {"a": [1, 2], "b": ["p", "q"]})
    metrics = run.get_metrics()
    assert metrics["lst"] == [1.0, 2.0, 3.0]
    assert metrics["curve"] == {"x": [1.0, 2.0], "y": [0.5, 0.25]}
    assert metrics["tbl"] == {"a": [1.0, 2.0], "b": ["p", "q"]}


def test_table_columns_of_different_lengths_are_refused(run):
    with pytest.raises(InvalidArgument, match="different lengths"):
        run.log_table("t", {"a": [1], "b": [1, 2]})


def test_log_image_from_plot_and_from_file_store_pngs(run, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure()
    plt.plot([1, 2], [3, 4])
    run.log_image("Accuracy vs Loss", plot=plt)
    plt.close("all")
    png = tmp_path / "x.png"
    png.write_bytes(run._read_file(run.get_metrics()["Accuracy vs Loss"]))
    assert png.read_bytes().startswith(b"\x89PNG")
    run.log_image("again", path=str(png))
    names = run.get_file_names()
    assert sum(n.startswith("images/") for n in names) == 2


def test_log_image_needs_exactly_one_source(run):
    with pytest.raises(InvalidArgument):
        run.log_image("x")


def test_child_metrics_come_back_recursively(run):
    child = run.child_run("c")
    child.log("m", 1)
    child.complete()
    run.log("top", 2)
    metrics = run.get_metrics(recursive=True)
    assert metrics == {run.id: {"top": 2.0}, child.id: {"m": 1.0}}


def test_many_values_are_all_durable_after_complete(ws):
    run = Experiment(ws, "bulk").start_logging()
    for i in range(20000):
        run.log("v", i)
    run.complete()
    fresh = Workspace.from_config(ws.write_config(ws.config.path))
    assert len(Run.get(fresh, run.id).get_metrics()["v"]) == 20000
    fresh.close()


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from runyard.core import Workspace, Experiment
    ws = Workspace.from_config(sys.argv[1])
    run = Experiment(ws, "exit").start_logging()
    print(run.id, flush=True)
    for i in range(5000):
        run.log("v", i)
    if sys.argv[2] == "sigterm":
        print("ready", flush=True)
        time.sleep(60)
    """
)


def _spawn(ws, tmp_path, mode):
    cfg = ws.write_config(tmp_path / "cfg")
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(script), cfg, mode], stdout=subprocess.PIPE, text=True
    )


def test_metrics_are_durable_when_the_process_exits_normally(ws, tmp_path):
    with _spawn(ws, tmp_path, "exit") as proc:
        run_id = proc.stdout.readline().strip()
        assert proc.wait(30) == 0
    assert len(Run.get(ws, run_id).get_metrics()["v"]) == 5000


def test_metrics_are_durable_when_the_process_gets_sigterm(ws, tmp_path):
    with _spawn(ws, tmp_path, "sigterm") as proc:
        run_id = proc.stdout.readline().strip()
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 128 + signal.SIGTERM
    assert len(Run.get(ws, run_id).get_metrics()["v"]) == 5000

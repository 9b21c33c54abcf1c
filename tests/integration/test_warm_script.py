"""Scripts started warm (a forked copy of the launcher's interpreter, the executor forked
from the sweep's fork server) behave as in a new interpreter: the same script, run both
ways on real runs, prints the same things and ends the same way (exit codes, tracebacks,
``sys.exit("text")``, ``__main__``, ``sys.argv``, ``sys.path``, the working folder, the
environment, pickling and ``multiprocessing``, threads and ``atexit`` at the end); and the
fallback to a new interpreter says why."""

from __future__ import annotations

import os
import re
import textwrap

import pytest
from submitting import wait_for

from runyard.artifacts.layout import DRIVER_LOG, EXECUTOR_LOG, run_file_key
from runyard.artifacts.snapshots import take_snapshot
from runyard.compute.local.backend import LocalComputeBackend
from runyard.compute.local.forkserver import ForkServer
from runyard.core import Experiment, ScriptRunConfig
from runyard.core.submission import build_definition
from runyard.entities.compute import ComputeTargetRecord
from runyard.entities.run import RunStatus
from runyard.entities.run_details import RUN_DEFINITION
from runyard.resources import ENV_WORKSPACE

pytestmark = pytest.mark.integration

# What a script can see of how it was started, then an ending chosen by its argument.
PROBE = """
import atexit, json, multiprocessing, os, pickle, sys, threading, time


def square(x):
    return x * x


def late():
    time.sleep(0.3)
    print("non-daemon thread done", flush=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    facts = {
        "name": __name__,
        "argv": [os.path.relpath(sys.argv[0], here)] + sys.argv[1:],
        "cwd_is_script_folder": os.getcwd() == here,
        "path0_is_script_folder": sys.path[0] == here,
        "path_rest": sys.path[1:],
        "probe_var": os.environ.get("PROBE_VAR"),
        "run_id_set": bool(os.environ.get("RUNYARD_RUN_ID")),
        "stdin": sys.stdin.read(),
        "pickled_main_function": pickle.loads(pickle.dumps(square))(3),
        "spawn_pool": multiprocessing.get_context("spawn").Pool(2).map(square, [1, 2, 3]),
        "fork_pool": multiprocessing.get_context("fork").Pool(2).map(square, [4]),
        "main_module_file": os.path.relpath(sys.modules["__main__"].__file__, here),
    }
    print("FACTS " + json.dumps(facts, sort_keys=True), flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    atexit.register(print, "atexit ran", flush=True)
    threading.Thread(target=late).start()
    ending = sys.argv[1]
    if ending == "exit3":
        sys.exit(3)
    if ending == "text":
        sys.exit("goodbye in words")
    if ending == "raise":
        raise ValueError("boom")


if __name__ == "__main__":
    main()
"""

ENDINGS = {
    "ok": (RunStatus.COMPLETED, None),
    "exit3": (RunStatus.FAILED, 3),
    "text": (RunStatus.FAILED, 1),
    "raise": (RunStatus.FAILED, 1),
}


@pytest.fixture(autouse=True)
def _fast(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))


@pytest.fixture
def probe(ws, here, tmp_path):
    """``probe(n, ending, **variables)``: a Queued run of PROBE ending as ``ending``, with
    these environment variables, and its definition."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(PROBE))
    exp = Experiment(ws, "warm")
    made = {}

    def make(n, ending, **variables):
        key = (ending, tuple(sorted(variables.items())))
        if key not in made:
            src = ScriptRunConfig(str(folder), "train.py", arguments=[ending], environment=here)
            src.run_config.environment_variables = {"PROBE_VAR": "probe value", **variables}
            definition, _ = build_definition(exp, src)
            made[key] = definition.with_snapshot(take_snapshot(ws.resources.artifacts, str(folder)))
        definition = made[key]
        ws.resources.store.create_run(
            "warm",
            run_id=f"warm_{n}",
            status=RunStatus.QUEUED,
            run_type="submitted",
            target="local",
            details={RUN_DEFINITION: definition.to_dict()},
        )
        return f"warm_{n}", definition

    return make


@pytest.fixture
def server(ws, tmp_path):
    env = dict(os.environ)
    env.update(ws.resources.settings.to_env())
    env[ENV_WORKSPACE] = ws.resources.config.to_json()
    server = ForkServer(env, str(tmp_path / "forkserver.out"))
    yield server
    server.close()


def _backend(ws, server=None):
    backend = LocalComputeBackend(ws.resources, ComputeTargetRecord("local", "local", {}))
    if server is not None:
        backend.spawn = server.spawn
    return backend


def _file(ws, run_id, name):
    return ws.resources.artifacts.read_bytes(run_file_key(run_id, name)).decode()


def _driver(ws, run_id):
    """The script's output, its run id and folders made neutral, lines sorted (stdout and
    stderr are streamed side by side)."""
    text = _file(ws, run_id, DRIVER_LOG)
    text = re.sub(r'"/[^"]*/wd/train\.py"', '"WD/train.py"', text)
    return sorted(line for line in text.splitlines() if line.strip())


def _wait_all(ws, run_ids):
    store = ws.resources.store
    wait_for(lambda: all(store.get_run(r).is_terminal for r in run_ids), 120, "the runs' ends")
    return {r: store.get_run(r) for r in run_ids}


def test_a_warm_script_behaves_as_in_a_new_interpreter(ws, probe, server):
    _, definition = probe(0, "ok")
    server.prepare(definition.to_dict())
    warm, cold = {}, {}
    for n, ending in enumerate(ENDINGS):
        run_id, definition = probe(10 + n, ending)
        _backend(ws, server).launch(run_id, definition)  # forked executor, warm script
        warm[ending] = run_id
        run_id, definition = probe(20 + n, ending)
        _backend(ws).launch(run_id, definition)  # a new executor, a new interpreter
        cold[ending] = run_id
    records = _wait_all(ws, list(warm.values()) + list(cold.values()))
    for ending, (status, code) in ENDINGS.items():
        w, c = records[warm[ending]], records[cold[ending]]
        assert w.details["script"]["warm"] is True, _file(ws, w.run_id, EXECUTOR_LOG)
        assert c.details["script"]["warm"] is False
        assert "from a warm interpreter" in _file(ws, w.run_id, EXECUTOR_LOG)
        for record in (w, c):
            assert record.status is status, (ending, record.error)
            assert (record.error or {}).get("exitCode") == code, ending
        assert _driver(ws, w.run_id) == _driver(ws, c.run_id), ending
    ok = _driver(ws, warm["ok"])
    (facts,) = (line for line in ok if line.startswith("FACTS "))
    assert '"name": "__main__"' in facts
    assert '"argv": ["train.py", "ok"]' in facts
    assert '"spawn_pool": [1, 4, 9]' in facts and '"fork_pool": [16]' in facts
    assert '"probe_var": "probe value"' in facts and '"stdin": ""' in facts
    assert '"cwd_is_script_folder": true' in facts and '"path0_is_script_folder": true' in facts
    assert {"atexit ran", "non-daemon thread done", "to stderr"} <= set(ok)
    # The traceback shows the script's frames only, as a new interpreter's does.
    raised = "\n".join(_driver(ws, warm["raise"]))
    assert 'File "WD/train.py"' in raised and "warm_script" not in raised
    assert "ValueError: boom" in raised
    assert "goodbye in words" in _driver(ws, warm["text"])


def test_a_script_starts_in_a_new_interpreter_when_warm_scripts_are_off(
    ws, probe, server, monkeypatch
):
    _, definition = probe(0, "ok")
    server.prepare(definition.to_dict())
    monkeypatch.setenv("RUNYARD_WARM_SCRIPTS", "0")
    run_id, definition = probe(1, "ok")
    _backend(ws, server).launch(run_id, definition)
    record = _wait_all(ws, [run_id])[run_id]
    assert record.status is RunStatus.COMPLETED, record.error
    assert record.details["script"]["warm"] is False
    log = _file(ws, run_id, EXECUTOR_LOG)
    assert "prepared by the launcher" in log  # the executor was forked all the same
    assert "The script starts in a new interpreter: RUNYARD_WARM_SCRIPTS=0" in log


def test_a_script_with_other_start_up_variables_starts_in_a_new_interpreter(ws, probe, server):
    _, definition = probe(0, "ok")
    server.prepare(definition.to_dict())
    run_id, definition = probe(1, "ok", PYTHONHASHSEED="123")
    _backend(ws, server).launch(run_id, definition)
    record = _wait_all(ws, [run_id])[run_id]
    assert record.status is RunStatus.COMPLETED, record.error
    assert record.details["script"]["warm"] is False
    log = _file(ws, run_id, EXECUTOR_LOG)
    assert "start-up variables differ from the launcher's: PYTHONHASHSEED" in log

"""The integration tests' common steps: submit a throw-away training script, wait for a
condition."""

from __future__ import annotations

import textwrap
import time

from runyard.core import Experiment, ScriptRunConfig


def submit_script(ws, target, tmp_path, body, env, *, experiment, use_gpu=False, name="train.py"):
    """Write ``body`` as ``name`` in a fresh source folder under ``tmp_path`` and submit it
    to ``target`` in ``env``; returns the run."""
    folder = tmp_path / f"src-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / name).write_text(textwrap.dedent(body))
    config = ScriptRunConfig(str(folder), name, compute_target=target, environment=env)
    config.run_config.use_gpu = use_gpu
    return Experiment(ws, experiment).submit(config)


def wait_for(check, timeout=90.0, what="condition", *, poll=0.05):
    """Poll ``check`` every ``poll`` seconds until it gives a true value, and return that
    value; fail the test saying what was awaited after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")

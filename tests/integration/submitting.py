"""Submit a throw-away training script: the integration tests' common step."""

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

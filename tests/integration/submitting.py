"""The integration tests' common steps: submit a throw-away training script, wait for a
condition."""

from __future__ import annotations

import textwrap
import time

from runyard.core import Experiment, ScriptRunConfig
from runyard.settings import Settings
from waiting import wait_for

__all__ = ["FAST_LIVENESS", "submit_script", "wait_for"]

#: Settings for workspaces a whole module shares: they are read when the workspace is made
#: (before any test's environment is set), and every run the workspace submits carries them.
FAST_LIVENESS = Settings(heartbeat_s=0.5, liveness_timeout_s=3.0)


def submit_script(ws, target, tmp_path, body, env, *, experiment, use_gpu=False, name="train.py"):
    """Write ``body`` as ``name`` in a fresh source folder under ``tmp_path`` and submit it
    to ``target`` in ``env``; returns the run."""
    folder = tmp_path / f"src-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / name).write_text(textwrap.dedent(body))
    config = ScriptRunConfig(str(folder), name, compute_target=target, environment=env)
    config.run_config.use_gpu = use_gpu
    return Experiment(ws, experiment).submit(config)

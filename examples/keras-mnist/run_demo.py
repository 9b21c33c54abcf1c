"""The main job: run the keras-mnist walkthrough on an embedded workspace in this folder.

1. Makes sure this interpreter can import Keras and TensorFlow: the walkthrough's verification
   loads the trained model with them. If they are missing they are installed (with uv) from
   ``requirements.txt``, unless ``--no-install`` is given.
2. Creates the embedded workspace ``keras-demo`` in ``examples/keras-mnist/.runyard`` (reused if
   it exists) with ``runyard workspace create``; its ``config.json`` goes there too, where
   ``Workspace.from_config()`` in the walkthrough finds it.
3. Runs ``walkthrough.py`` and exits with its status.

Usage: ``python examples/keras-mnist/run_demo.py [--epochs N] [--no-install]``.
``MNIST_DIR`` / ``MNIST_MIRROR`` pass through to the walkthrough (see README.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE_NAME = "keras-demo"
WORKSPACE_DIR = os.path.join(HERE, ".runyard")
VERIFY_MODULES = ("keras", "tensorflow")


def ensure_keras(install: bool) -> None:
    """Install requirements.txt into this interpreter if Keras or TensorFlow is missing."""
    missing = [m for m in VERIFY_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return
    requirements = os.path.join(HERE, "requirements.txt")
    if not install:
        sys.exit(
            f"{', '.join(missing)} not importable by {sys.executable}; the walkthrough's "
            f"verification needs them. Install them with: pip install -r {requirements}"
        )
    print(f"Installing {requirements} into {sys.prefix} (needed by the verification step)...")
    uv = [sys.executable, "-m", "uv"] if importlib.util.find_spec("uv") else None
    if uv:
        command = [*uv, "pip", "install", "--python", sys.executable, "-r", requirements]
    else:
        command = [sys.executable, "-m", "pip", "install", "-r", requirements]
    subprocess.run(command, check=True)


def create_workspace() -> None:
    """Create (or reuse) the demo workspace and write its config.json next to it."""
    cli = shutil.which("runyard", path=os.path.dirname(sys.executable))
    if cli:
        subprocess.run(
            [cli, "workspace", "create", WORKSPACE_NAME, "--path", WORKSPACE_DIR, "--exist-ok"],
            cwd=HERE,
            check=True,
        )
        return
    # Runyard installed without its console script (e.g. on sys.path only): same thing in Python.
    from runyard.core import Workspace

    ws = Workspace.create(WORKSPACE_NAME, path=WORKSPACE_DIR, exist_ok=True)
    print(f"Workspace {WORKSPACE_NAME!r} ready; config written to {ws.write_config(WORKSPACE_DIR)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, help="epochs to train (sets EPOCHS; default: the script's 20)"
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="fail instead of installing Keras/TensorFlow when they are missing",
    )
    args = parser.parse_args(argv)

    ensure_keras(install=not args.no_install)
    create_workspace()
    env = dict(os.environ)
    if args.epochs is not None:
        env["EPOCHS"] = str(args.epochs)
    walkthrough = os.path.join(HERE, "walkthrough.py")
    code = subprocess.run([sys.executable, walkthrough], env=env).returncode
    if code == 0:
        # As on Azure, the cluster outlives the script that created it (the next run
        # starts at once); say so, and how to stop it, rather than leave it unnoticed.
        config = os.path.relpath(WORKSPACE_DIR)
        print(
            "\nThe compute target 'gpucluster' is a Ray head on this machine (1-2 GB of "
            "memory). It stays up for the next run and stops itself after 30 minutes "
            "without runs (idle_seconds_before_scaledown); the next submit starts it again. "
            "Stop it now with:\n"
            f"  {os.path.join(os.path.dirname(sys.executable), 'runyard')} -w {config} "
            "compute delete gpucluster --yes"
        )
    return code


if __name__ == "__main__":
    sys.exit(main())

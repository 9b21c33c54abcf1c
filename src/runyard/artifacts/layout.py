"""Where things live in a workspace's artifact store: one place for every name that both
the submitting side and the node side must agree on."""

from __future__ import annotations

#: Source snapshots, content-addressed (see :mod:`runyard.artifacts.snapshots`).
SNAPSHOTS_PREFIX = "snapshots"
#: The run file holding the script's stdout and stderr.
DRIVER_LOG = "runyard-logs/driver.txt"
#: The run file holding the executor's own messages (phases, environment, uploads).
EXECUTOR_LOG = "runyard-logs/executor.txt"
#: The run file of a HyperDrive run's tuning log (which child got which values, and why
#: children were stopped).
HYPERDRIVE_LOG = "runyard-logs/hyperdrive.txt"
#: Run files that are logs (``Run.get_all_logs``, ``download_logs``).
LOG_PREFIXES = ("runyard-logs/", "logs/")


def run_files_prefix(run_id: str) -> str:
    """The folder of a run's files (outputs, logs, uploads)."""
    return f"runs/{run_id}/files"


def run_file_key(run_id: str, name: str) -> str:
    """The artifact name of run file ``name`` (already checked as a safe relative path)."""
    return f"{run_files_prefix(run_id)}/{name}"


def worker_log_name(rank: int) -> str:
    """The run file process ``rank`` of a distributed run logs to."""
    return f"runyard-logs/worker_{rank}.txt"


def model_prefix(name: str, version: int) -> str:
    """The folder of a registered model version's files."""
    return f"models/{name}/{version}"
